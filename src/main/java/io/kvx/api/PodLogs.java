package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Whether a container's logs can be read, judged from the pod's status as the kubelet does before it
 * opens a log: the 400 message kubectl then prints, or null when the log is there to read. Pure.
 */
public final class PodLogs {

  private PodLogs() {
  }

  /** The status of a container (init, app or ephemeral), or null when the pod reports none. */
  public static JsonObject containerStatus(JsonObject pod, String container) {
    JsonObject status = pod.getJsonObject("status", new JsonObject());
    for (String list : new String[] {"initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"}) {
      for (Object o : status.getJsonArray(list, new JsonArray())) {
        if (o instanceof JsonObject cs && container.equals(cs.getString("name"))) return cs;
      }
    }
    return null;
  }

  /** Whether the container has run and ended at least once (its logs, if kept, are final). */
  public static boolean hasTerminated(JsonObject pod, String container) {
    JsonObject cs = containerStatus(pod, container);
    return cs != null && (state(cs, "state").containsKey("terminated") || state(cs, "lastState").containsKey("terminated"));
  }

  /** The kubelet's refusal for these logs, or null when they can be read. */
  public static String refusal(JsonObject pod, String container, boolean previous) {
    String podName = Meta.name(pod);
    String who = "container \"" + container + "\" in pod \"" + podName + "\"";
    JsonObject cs = containerStatus(pod, container);
    JsonObject state = cs == null ? new JsonObject() : state(cs, "state");
    JsonObject last = cs == null ? new JsonObject() : state(cs, "lastState");
    if (previous) {
      return last.containsKey("terminated") ? null
          : "previous terminated container \"" + container + "\" in pod \"" + podName + "\" not found";
    }
    if (state.containsKey("running") || state.containsKey("terminated") || last.containsKey("terminated")) return null;
    JsonObject waiting = state.getJsonObject("waiting");
    if (waiting != null) {
      String reason = waiting.getString("reason", "");
      return switch (reason) {
        case "ErrImagePull" -> who + " is waiting to start: image can't be pulled";
        case "ImagePullBackOff" -> who + " is waiting to start: trying and failing to pull image";
        default -> who + " is waiting to start: " + reason;
      };
    }
    return cs == null ? who + " is waiting to start: ContainerCreating" : who + " is waiting to start - no logs yet";
  }

  private static JsonObject state(JsonObject cs, String field) {
    return cs.getValue(field) instanceof JsonObject o ? o : new JsonObject();
  }
}
