package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Patches;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * events.k8s.io/v1 as kube-apiserver serves it: another view of the same stored core/v1 Events, so an
 * event written through either API is read through both (kubectl describe shows what an events/v1
 * recorder wrote). Requests are carried out on core/v1 and the objects converted each way, the fields
 * renamed as Kubernetes' conversion renames them (involvedObject is regarding, message is note, count
 * is deprecatedCount, ...).
 */
final class EventsV1 {

  static final String GROUP = "events.k8s.io";
  private static final ResourceType CORE = Resources.builtIn("", "events");
  /** core/v1 field → events.k8s.io/v1 field; the rest (eventTime, series, action, reason, type, related,
   * reportingInstance) keep their names. */
  private static final Map<String, String> RENAMED = Map.of("involvedObject", "regarding", "message", "note",
      "reportingComponent", "reportingController", "source", "deprecatedSource", "firstTimestamp",
      "deprecatedFirstTimestamp", "lastTimestamp", "deprecatedLastTimestamp", "count", "deprecatedCount");
  private static final Map<String, String> V1_TO_CORE = RENAMED.entrySet().stream()
      .collect(java.util.stream.Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey));
  private static final int PATCH_RETRIES = 5;

  private EventsV1() {
  }

  static boolean serves(ResourceType type) {
    return type.group().equals(GROUP);
  }

  /** A stored core/v1 Event as events.k8s.io/v1 shows it. */
  static JsonObject toV1(JsonObject core) {
    return rename(core, true).put("apiVersion", GROUP + "/v1").put("kind", "Event");
  }

  /** An events.k8s.io/v1 Event as it is stored (core/v1). */
  static JsonObject toCore(JsonObject v1) {
    return rename(v1, false).put("apiVersion", "v1").put("kind", "Event");
  }

  private static JsonObject rename(JsonObject from, boolean toV1) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, Object> e : from) {
      String name = e.getKey();
      String renamed = toV1 ? RENAMED.get(name) : V1_TO_CORE.get(name);
      if (renamed != null) out.put(renamed, e.getValue());
      // a field named as in the other version only is dropped, as a typed decode would drop it
      else if (!(toV1 ? V1_TO_CORE : RENAMED).containsKey(name)) out.put(name, e.getValue());
    }
    return out;
  }

  /** Carries out an events.k8s.io/v1 request on the stored core/v1 Events; answers in events.k8s.io/v1. */
  static Future<JsonObject> handle(ApiRequest r, Function<ApiRequest, Future<JsonObject>> core) {
    return switch (r.verb()) {
      case "create" -> {
        validateCreate(r.body());
        yield core.apply(onCore(r, r.verb(), toCore(r.body()), null)).map(EventsV1::toV1);
      }
      case "update" -> core.apply(onCore(r, r.verb(), toCore(r.body()), null)).map(EventsV1::toV1);
      case "patch" -> patch(r, core, PATCH_RETRIES);
      case "get", "delete" -> core.apply(onCore(r, r.verb(), r.body(), r.patchType())).map(EventsV1::present);
      case "list", "deletecollection" -> core.apply(onCore(r, r.verb(), r.body(), r.patchType()))
          .map(list -> list.put("apiVersion", GROUP + "/v1").put("items", new JsonArray(
              list.getJsonArray("items", new JsonArray()).stream().map(o -> toV1((JsonObject) o)).toList())));
      default -> Future.failedFuture(ApiError.methodNotAllowed());
    };
  }

  /** Delete answers with a Status or with the object (a graceful delete); only the latter is converted. */
  private static JsonObject present(JsonObject o) {
    return "Event".equals(o.getString("kind")) ? toV1(o) : o;
  }

  /** A patch applies to the events.k8s.io/v1 form: read, convert, patch, convert back, update at that version. */
  private static Future<JsonObject> patch(ApiRequest r, Function<ApiRequest, Future<JsonObject>> core, int left) {
    return core.apply(onCore(r, "get", null, null)).compose(stored -> {
      JsonObject old = toV1(stored);
      String type = r.patchType() == null ? "" : r.patchType();
      JsonObject patched;
      if (type.startsWith("application/json-patch+json")) {
        patched = Patches.jsonPatch(old, r.body().getJsonArray("patch"));
      } else if (type.startsWith("application/strategic-merge-patch+json")) {
        patched = Patches.strategicMergePatch(old, r.body());
      } else {
        // merge patch, and server-side apply approximated by it (an Event has no lists to merge by key)
        patched = Patches.mergePatch(old, r.body());
      }
      long sent = Meta.resourceVersion(patched);
      if (sent != 0 && sent != Meta.resourceVersion(old)) {
        throw ApiError.conflict(GROUP, "events", r.name(),
            "the object has been modified; please apply your changes to the latest version and try again");
      }
      Meta.meta(patched).put("resourceVersion", Meta.meta(old).getString("resourceVersion"));
      return core.apply(onCore(r, "update", toCore(patched), null)).map(EventsV1::toV1).recover(e ->
          left > 0 && sent == 0 && ApiError.is(e, ApiError.Reason.Conflict) ? patch(r, core, left - 1)
              : Future.failedFuture(e));
    });
  }

  private static ApiRequest onCore(ApiRequest r, String verb, JsonObject body, String patchType) {
    return new ApiRequest(verb, CORE, r.namespace(), r.name(), r.subresource(), body, patchType, r.query(),
        r.warnings(), r.userAgent(), r.created());
  }

  /** What kube's events.k8s.io/v1 validation requires of a new Event beyond core/v1's. */
  static void validateCreate(JsonObject event) {
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
    if (!causes.isEmpty()) throw ApiError.invalid(GROUP, "Event", Meta.name(event), causes);
  }
}
