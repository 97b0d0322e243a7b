package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Set;

/**
 * The times of built-in objects as kube's decoder takes them: a metav1.Time is RFC 3339, stored in UTC whole seconds
 * ({@code 2026-11-24T10:00:00Z}); a MicroTime in UTC with microseconds. A value that is no time is kube's 400. Checked
 * where objects carry them: every status (conditions, start and completion times...), an Event's own times and a
 * Lease's. Pure.
 */
public final class Times {

  private static final Set<String> TIME = Set.of("lastTransitionTime", "lastUpdateTime", "lastProbeTime",
      "lastHeartbeatTime", "startTime", "completionTime", "lastScheduleTime", "lastSuccessfulTime", "startedAt",
      "finishedAt", "firstTimestamp", "lastTimestamp", "deprecatedFirstTimestamp", "deprecatedLastTimestamp");
  private static final Set<String> MICRO = Set.of("eventTime", "lastObservedTime", "renewTime", "acquireTime");
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'");
  private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'");

  private Times() {
  }

  public static void normalize(String kind, JsonObject obj) {
    if (obj.getValue("status") instanceof JsonObject status) walk(kind, status);
    if (kind.equals("Event")) {
      for (String f : java.util.List.of("firstTimestamp", "lastTimestamp", "eventTime", "deprecatedFirstTimestamp",
          "deprecatedLastTimestamp")) {
        fix(kind, obj, f);
      }
      if (obj.getValue("series") instanceof JsonObject series) fix(kind, series, "lastObservedTime");
    }
    if (kind.equals("Lease") && obj.getValue("spec") instanceof JsonObject spec) {
      fix(kind, spec, "renewTime");
      fix(kind, spec, "acquireTime");
    }
  }

  private static void walk(String kind, Object node) {
    if (node instanceof JsonObject o) {
      for (String f : o.fieldNames().toArray(String[]::new)) {
        if (o.getValue(f) instanceof String) fix(kind, o, f);
        else walk(kind, o.getValue(f));
      }
    } else if (node instanceof JsonArray a) {
      for (Object x : a) walk(kind, x);
    }
  }

  private static void fix(String kind, JsonObject o, String field) {
    boolean micro = MICRO.contains(field);
    if (!micro && !TIME.contains(field) || !(o.getValue(field) instanceof String text)) return;
    OffsetDateTime t;
    try {
      t = OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    } catch (DateTimeParseException e) {
      throw ApiError.badRequest(kind + " in version \"v1\" cannot be handled as a " + kind + ": parsing time \"" + text
          + "\" as \"" + (micro ? "2006-01-02T15:04:05.000000Z07:00" : "2006-01-02T15:04:05Z07:00")
          + "\": cannot parse \"" + text + "\"");
    }
    OffsetDateTime utc = t.withOffsetSameInstant(ZoneOffset.UTC);
    o.put(field, micro ? MICROS.format(utc.truncatedTo(ChronoUnit.MICROS)) : SECONDS.format(utc));
  }
}
