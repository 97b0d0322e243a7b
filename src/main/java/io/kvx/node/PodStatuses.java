package io.kvx.node;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Pure rules of the pod lifecycle: restart decisions, back-off, phase and conditions. */
public final class PodStatuses {

  private PodStatuses() {
  }

  /** Whether an exited container is restarted under the pod's restartPolicy. */
  public static boolean shouldRestart(String restartPolicy, int exitCode) {
    return switch (restartPolicy == null ? "Always" : restartPolicy) {
      case "Never" -> false;
      case "OnFailure" -> exitCode != 0;
      default -> true;
    };
  }

  /** The kubelet's crash back-off: 10 s doubling to 5 min; the first restart is immediate. */
  public static long backoffMillis(int restartCount) {
    if (restartCount <= 0) return 0;
    long seconds = 10L << Math.min(restartCount - 1, 5);
    return Math.min(seconds, 300) * 1000;
  }

  /**
   * The pod phase from its container statuses (Kubernetes' getPhase): Pending until every container
   * has started once; Succeeded/Failed once all are terminated for good; Running otherwise.
   */
  public static String phase(String restartPolicy, List<JsonObject> containerStatuses, int specCount) {
    int running = 0;
    int waiting = 0;
    int succeeded = 0;
    int failed = 0;
    int restarting = 0;
    for (JsonObject cs : containerStatuses) {
      JsonObject state = cs.getJsonObject("state", new JsonObject());
      if (state.containsKey("running")) {
        running++;
      } else if (state.containsKey("terminated")) {
        if (state.getJsonObject("terminated").getInteger("exitCode", 0) == 0) succeeded++;
        else failed++;
      } else if (cs.containsKey("lastState") && cs.getJsonObject("lastState").containsKey("terminated")) {
        restarting++;
      } else {
        waiting++;
      }
    }
    if (containerStatuses.size() < specCount || waiting > 0) return "Pending";
    if (running > 0 || restarting > 0) return "Running";
    if (failed == 0) return "Succeeded";
    return "Failed";
  }

  /**
   * The phase of a pod whose containers were stopped for its deletion, as the kubelet reports it before the
   * final delete: Succeeded when every container exited 0, else Failed (one killed, failed or never started).
   */
  public static String terminalPhase(List<JsonObject> containerStatuses) {
    for (JsonObject cs : containerStatuses) {
      JsonObject terminated = cs.getJsonObject("state", new JsonObject()).getJsonObject("terminated");
      if (terminated == null || terminated.getInteger("exitCode", 1) != 0) return "Failed";
    }
    return "Succeeded";
  }

  public static JsonArray conditions(boolean initialized, boolean allReady, boolean sandboxReady, String now,
                                     JsonArray previous) {
    return conditions(initialized, allReady, sandboxReady, now, previous, List.of(), List.of());
  }

  /**
   * The pod's conditions; as the kubelet's, a False Initialized names the init containers not done yet
   * ("containers with incomplete status: [i]", reason ContainersNotInitialized) and a False Ready and
   * ContainersReady the containers not ready ("containers with unready status: [c]").
   */
  public static JsonArray conditions(boolean initialized, boolean allReady, boolean sandboxReady, String now,
                                     JsonArray previous, List<String> incomplete, List<String> unready) {
    JsonArray out = new JsonArray();
    out.add(condition("PodReadyToStartContainers", sandboxReady, now, previous));
    JsonObject init = condition("Initialized", initialized, now, previous);
    if (!initialized && !incomplete.isEmpty()) {
      init.put("reason", "ContainersNotInitialized")
          .put("message", "containers with incomplete status: [" + String.join(" ", incomplete) + "]");
    }
    out.add(init);
    for (String type : List.of("Ready", "ContainersReady")) {
      JsonObject c = condition(type, allReady, now, previous);
      if (!allReady && !unready.isEmpty()) c.put("message", "containers with unready status: [" + String.join(" ", unready) + "]");
      out.add(c);
    }
    out.add(condition("PodScheduled", true, now, previous));
    // Conditions others own (DisruptionTarget, readiness gates' types) stay as they are.
    for (Object o : previous) {
      if (o instanceof JsonObject c && !KUBELET_CONDITIONS.contains(c.getString("type"))) out.add(c.copy());
    }
    return out;
  }

  private static final java.util.Set<String> KUBELET_CONDITIONS = java.util.Set.of("PodReadyToStartContainers",
      "Initialized", "Ready", "ContainersReady", "PodScheduled");

  private static JsonObject condition(String type, boolean status, String now, JsonArray previous) {
    String s = status ? "True" : "False";
    String since = now;
    for (Object o : previous) {
      JsonObject c = (JsonObject) o;
      if (type.equals(c.getString("type")) && s.equals(c.getString("status")) && c.getString("lastTransitionTime") != null) {
        since = c.getString("lastTransitionTime");
      }
    }
    JsonObject c = new JsonObject().put("type", type).put("status", s).put("lastTransitionTime", since);
    if (!status && (type.equals("Ready") || type.equals("ContainersReady"))) {
      c.put("reason", "ContainersNotReady");
    }
    return c;
  }
}
