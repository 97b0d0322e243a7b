package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Built-in versions served as a view of another stored form, converted each way as Kubernetes converts
 * them: events.k8s.io/v1 Events are the stored core/v1 Events (fields renamed), autoscaling/v1
 * HorizontalPodAutoscalers the stored autoscaling/v2 ones (the CPU target as
 * targetCPUUtilizationPercentage, everything v1 cannot say kept in kube's autoscaling.alpha annotations so
 * a v1 client's read-modify-write loses nothing). Pure.
 */
public final class Conversions {

  /** How a served type maps onto its stored type. */
  public record Conversion(ResourceType stored, UnaryOperator<JsonObject> toServed, UnaryOperator<JsonObject> toStored,
                           Consumer<JsonObject> validateCreate) {

    /** The object converted when it is in the stored form (a Status, say, is passed through). */
    public JsonObject present(JsonObject o) {
      return o != null && stored.kind().equals(o.getString("kind")) && stored.apiVersion().equals(o.getString("apiVersion"))
          ? toServed.apply(o) : o;
    }
  }

  private static final Conversion EVENTS = new Conversion(Resources.builtIn("", "events"), Conversions::eventToV1,
      Conversions::eventToCore, Conversions::validateEventsV1);
  private static final Conversion HPA_V1 = new Conversion(Resources.builtIn("autoscaling", "horizontalpodautoscalers"),
      Conversions::hpaToV1, Conversions::hpaToV2, o -> { });

  private Conversions() {
  }

  /** The conversion a served type needs, or null when it is served as stored. */
  public static Conversion of(ResourceType served) {
    if (served.group().equals("events.k8s.io")) return EVENTS;
    if (served.group().equals("autoscaling") && served.version().equals("v1")
        && served.plural().equals("horizontalpodautoscalers")) {
      return HPA_V1;
    }
    return null;
  }

  // ---- events.k8s.io/v1 <-> core/v1 ----

  /** core/v1 field → events.k8s.io/v1 field; the rest (eventTime, series, action, reason, type, related,
   * reportingInstance) keep their names. */
  private static final Map<String, String> EVENT_RENAMED = Map.of("involvedObject", "regarding", "message", "note",
      "reportingComponent", "reportingController", "source", "deprecatedSource", "firstTimestamp",
      "deprecatedFirstTimestamp", "lastTimestamp", "deprecatedLastTimestamp", "count", "deprecatedCount");
  private static final Map<String, String> EVENT_V1_TO_CORE = EVENT_RENAMED.entrySet().stream()
      .collect(Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey));

  /** A stored core/v1 Event as events.k8s.io/v1 shows it. */
  public static JsonObject eventToV1(JsonObject core) {
    return rename(core, EVENT_RENAMED, EVENT_V1_TO_CORE).put("apiVersion", "events.k8s.io/v1").put("kind", "Event");
  }

  /** An events.k8s.io/v1 Event as it is stored (core/v1). */
  public static JsonObject eventToCore(JsonObject v1) {
    return rename(v1, EVENT_V1_TO_CORE, EVENT_RENAMED).put("apiVersion", "v1").put("kind", "Event");
  }

  private static JsonObject rename(JsonObject from, Map<String, String> renames, Map<String, String> otherWay) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, Object> e : from) {
      String renamed = renames.get(e.getKey());
      if (renamed != null) out.put(renamed, e.getValue());
      // a field named as in the other version only is dropped, as a typed decode would drop it
      else if (!otherWay.containsKey(e.getKey())) out.put(e.getKey(), e.getValue());
    }
    return out;
  }

  /** What kube's events.k8s.io/v1 validation requires of a new Event beyond core/v1's. */
  public static void validateEventsV1(JsonObject event) {
    List<ApiError.Cause> causes = new ArrayList<>();
    for (String field : List.of("eventTime", "reportingController", "reportingInstance", "action", "reason")) {
      Object v = event.getValue(field);
      if (v == null || v.toString().isEmpty()) causes.add(new ApiError.Cause(field, "FieldValueRequired", "Required value"));
    }
    String type = event.getString("type");
    if (type != null && !type.equals("Normal") && !type.equals("Warning")) {
      causes.add(new ApiError.Cause("type", "FieldValueNotSupported",
          "Unsupported value: \"" + type + "\": supported values: \"Normal\", \"Warning\""));
    }
    String note = event.getString("note");
    if (note != null && note.length() > 1024) {
      causes.add(new ApiError.Cause("note", "FieldValueTooLong", "Too long: may not be more than 1024 bytes"));
    }
    if (!causes.isEmpty()) throw ApiError.invalid("events.k8s.io", "Event", Meta.name(event), causes);
  }

  // ---- autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler ----

  private static final String ANNOTATION = "autoscaling.alpha.kubernetes.io/";

  /** The stored (v2) HorizontalPodAutoscaler as autoscaling/v1 shows it. */
  public static JsonObject hpaToV1(JsonObject v2) {
    JsonObject out = v2.copy().put("apiVersion", "autoscaling/v1");
    JsonObject annotations = new JsonObject();
    JsonObject spec = out.getJsonObject("spec", new JsonObject());
    JsonArray others = new JsonArray();
    for (Object o : spec.getJsonArray("metrics", new JsonArray())) {
      Integer cpu = cpuUtilization((JsonObject) o, "target");
      if (cpu != null && !spec.containsKey("targetCPUUtilizationPercentage")) spec.put("targetCPUUtilizationPercentage", cpu);
      else others.add(o);
    }
    spec.remove("metrics");
    if (!others.isEmpty()) annotations.put(ANNOTATION + "metrics", others.encode());
    Object behavior = spec.remove("behavior");
    if (behavior instanceof JsonObject b) annotations.put(ANNOTATION + "behavior", b.encode());
    JsonObject status = out.getJsonObject("status");
    if (status != null) {
      JsonArray current = new JsonArray();
      for (Object o : status.getJsonArray("currentMetrics", new JsonArray())) {
        Integer cpu = cpuUtilization((JsonObject) o, "current");
        if (cpu != null && !status.containsKey("currentCPUUtilizationPercentage")) {
          status.put("currentCPUUtilizationPercentage", cpu);
        } else {
          current.add(o);
        }
      }
      status.remove("currentMetrics");
      if (!current.isEmpty()) annotations.put(ANNOTATION + "current-metrics", current.encode());
      Object conditions = status.remove("conditions");
      if (conditions instanceof JsonArray c && !c.isEmpty()) annotations.put(ANNOTATION + "conditions", c.encode());
    }
    if (!annotations.isEmpty()) {
      JsonObject meta = Meta.meta(out);
      JsonObject existing = meta.getJsonObject("annotations");
      meta.put("annotations", existing == null ? annotations : existing.mergeIn(annotations));
    }
    return out;
  }

  /** An autoscaling/v1 HorizontalPodAutoscaler as it is stored (v2). */
  public static JsonObject hpaToV2(JsonObject v1) {
    JsonObject out = v1.copy().put("apiVersion", "autoscaling/v2");
    JsonObject meta = Meta.meta(out);
    JsonObject annotations = meta.getJsonObject("annotations", new JsonObject());
    JsonObject spec = out.getJsonObject("spec", new JsonObject());
    JsonArray metrics = new JsonArray();
    Object cpu = spec.remove("targetCPUUtilizationPercentage");
    if (cpu instanceof Number n) metrics.add(cpuMetric("target", n.intValue()));
    metrics.addAll(array(annotations.remove(ANNOTATION + "metrics")));
    if (!metrics.isEmpty()) spec.put("metrics", metrics);
    Object behavior = annotations.remove(ANNOTATION + "behavior");
    if (behavior instanceof String b) spec.put("behavior", new JsonObject(b));
    JsonObject status = out.getJsonObject("status");
    JsonArray current = array(annotations.remove(ANNOTATION + "current-metrics"));
    JsonArray conditions = array(annotations.remove(ANNOTATION + "conditions"));
    if (status != null) {
      Object currentCpu = status.remove("currentCPUUtilizationPercentage");
      JsonArray all = new JsonArray();
      if (currentCpu instanceof Number n) all.add(cpuMetric("current", n.intValue()));
      all.addAll(current);
      if (!all.isEmpty()) status.put("currentMetrics", all);
      if (!conditions.isEmpty()) status.put("conditions", conditions);
    }
    if (annotations.isEmpty()) meta.remove("annotations");
    return out;
  }

  private static JsonArray array(Object annotation) {
    if (!(annotation instanceof String s) || s.isEmpty()) return new JsonArray();
    try {
      return new JsonArray(s);
    } catch (RuntimeException e) {
      return new JsonArray();
    }
  }

  /** The utilization of a cpu Resource metric ({@code part}: target or current), or null for any other metric. */
  private static Integer cpuUtilization(JsonObject metric, String part) {
    if (!"Resource".equals(metric.getString("type"))) return null;
    JsonObject resource = metric.getJsonObject("resource", new JsonObject());
    if (!"cpu".equals(resource.getString("name"))) return null;
    JsonObject value = resource.getJsonObject(part, new JsonObject());
    if (part.equals("target") && !"Utilization".equals(value.getString("type"))) return null;
    Object u = value.getValue("averageUtilization");
    return u instanceof Number n ? n.intValue() : null;
  }

  private static JsonObject cpuMetric(String part, int utilization) {
    JsonObject value = new JsonObject().put("averageUtilization", utilization);
    if (part.equals("target")) value.put("type", "Utilization");
    return new JsonObject().put("type", "Resource").put("resource", new JsonObject().put("name", "cpu").put(part, value));
  }
}
