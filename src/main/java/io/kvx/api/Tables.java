package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * meta.k8s.io/v1 Table rendering: the columns kubectl prints for each kind (priority 1 shows with
 * {@code -o wide}), matching kube-apiserver's printers. Pure.
 */
public final class Tables {

  record Column(String name, String type, String format, int priority, String description,
                        Function<JsonObject, Object> cell) {
    JsonObject definition() {
      return new JsonObject().put("name", name).put("type", type).put("format", format)
          .put("description", description).put("priority", priority);
    }
  }

  private Tables() {
  }

  /** A Table of the given objects; {@code includeObject} is None, Object or PartialObjectMetadata. */
  public static JsonObject table(ResourceType type, List<JsonObject> items, String resourceVersion,
                                 String continueToken, String includeObject) {
    List<Column> cols = columns(type);
    JsonArray defs = new JsonArray();
    cols.forEach(c -> defs.add(c.definition()));
    JsonArray rows = new JsonArray();
    for (JsonObject item : items) {
      JsonArray cells = new JsonArray();
      for (Column c : cols) cells.add(c.cell.apply(item));
      JsonObject row = new JsonObject().put("cells", cells);
      switch (includeObject == null ? "PartialObjectMetadata" : includeObject) {
        case "None" -> { }
        case "Object" -> row.put("object", item);
        default -> row.put("object", new JsonObject().put("kind", "PartialObjectMetadata")
            .put("apiVersion", "meta.k8s.io/v1").put("metadata", item.getJsonObject("metadata")));
      }
      rows.add(row);
    }
    JsonObject meta = new JsonObject();
    if (resourceVersion != null) meta.put("resourceVersion", resourceVersion);
    if (continueToken != null) meta.put("continue", continueToken);
    return new JsonObject().put("kind", "Table").put("apiVersion", "meta.k8s.io/v1").put("metadata", meta)
        .put("columnDefinitions", defs).put("rows", rows);
  }

  private static List<Column> columns(ResourceType type) {
    List<Column> cols = new ArrayList<>();
    cols.add(new Column("Name", "string", "name", 0, "Name must be unique within a namespace.",
        type.kind().equals("StorageClass") ? WorkloadColumns::storageClassName : Meta::name));
    switch (type.kind()) {
      case "Pod" -> {
        cols.add(col("Ready", 0, "The aggregate readiness state of this pod for accepting traffic.", Tables::podReady));
        cols.add(col("Status", 0, "The aggregate status of the containers in this pod.", Tables::podStatus));
        cols.add(new Column("Restarts", "string", "", 0, "The number of times the containers in this pod have been restarted.",
            Tables::podRestarts));
        cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
        cols.add(col("IP", 1, "IP address allocated to the pod.", p -> {
          JsonArray ips = status(p).getJsonArray("podIPs", new JsonArray());
          String ip = ips.isEmpty() ? status(p).getString("podIP", "") : ips.getJsonObject(0).getString("ip", "");
          return ip.isEmpty() ? "<none>" : ip;
        }));
        cols.add(col("Node", 1, "Name of the node the pod is assigned to.",
            p -> p.getJsonObject("spec", new JsonObject()).getString("nodeName", "<none>")));
        cols.add(col("Nominated Node", 1, "Name of the node the pod is nominated to.",
            p -> status(p).getString("nominatedNodeName", "<none>")));
        cols.add(col("Readiness Gates", 1, "Pod readiness gates.", Tables::podReadinessGates));
      }
      case "Node" -> {
        cols.add(col("Status", 0, "The status of the node", Tables::nodeStatus));
        cols.add(col("Roles", 0, "The roles of the node", Tables::nodeRoles));
        cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
        cols.add(col("Version", 0, "Kubelet Version reported by the node.",
            n -> nodeInfo(n).getString("kubeletVersion", "")));
        cols.add(col("Internal-IP", 1, "Internal IP of the node.", n -> nodeAddress(n, "InternalIP")));
        cols.add(col("External-IP", 1, "External IP of the node.", n -> nodeAddress(n, "ExternalIP")));
        cols.add(col("OS-Image", 1, "OS image reported by the node.", n -> nodeInfo(n).getString("osImage", "<unknown>")));
        cols.add(col("Kernel-Version", 1, "Kernel version reported by the node.",
            n -> nodeInfo(n).getString("kernelVersion", "<unknown>")));
        cols.add(col("Container-Runtime", 1, "Container runtime reported by the node.",
            n -> nodeInfo(n).getString("containerRuntimeVersion", "<unknown>")));
      }
      case "Namespace" -> {
        cols.add(col("Status", 0, "The status of the namespace", n -> status(n).getString("phase", "")));
        cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
      }
      case "Event" -> {
        // core/v1 and events.k8s.io/v1 alike (Kubernetes prints the latter after converting it to the former:
        // regarding is involvedObject, note is message, deprecated* are the old fields, reportingController the source)
        cols.set(0, col("Last Seen", 0, "", e -> {
          JsonObject series = e.getJsonObject("series");
          if (series != null && series.getString("lastObservedTime") != null) {
            return Meta.since(series.getString("lastObservedTime"));
          }
          String last = e.getString("lastTimestamp", e.getString("deprecatedLastTimestamp"));
          return last != null ? Meta.since(last) : eventFirstSeen(e);
        }));
        cols.add(col("Type", 0, "", e -> e.getString("type", "")));
        cols.add(col("Reason", 0, "", e -> e.getString("reason", "")));
        cols.add(col("Object", 0, "", e -> {
          JsonObject io = eventObject(e);
          String kind = io.getString("kind", "").toLowerCase();
          return io.getString("name", "").isEmpty() ? kind : kind + "/" + io.getString("name");
        }));
        cols.add(col("Subobject", 1, "", e -> eventObject(e).getString("fieldPath", "")));
        cols.add(col("Source", 1, "", e -> {
          JsonObject src = e.getJsonObject("source", e.getJsonObject("deprecatedSource", new JsonObject()));
          String component = src.getString("component", e.getString("reportingController",
              e.getString("reportingComponent", "")));
          String host = src.getString("host", e.getString("reportingInstance", ""));
          return host.isEmpty() ? component : component + ", " + host;
        }));
        cols.add(col("Message", 0, "", e -> e.getString("message", e.getString("note", "")).trim()));
        cols.add(col("First Seen", 1, "", Tables::eventFirstSeen));
        cols.add(col("Count", 1, "", e -> {
          JsonObject series = e.getJsonObject("series");
          if (series != null) return series.getInteger("count", 0);
          int count = e.getInteger("count", e.getInteger("deprecatedCount", 0));
          return count == 0 ? 1 : count;
        }));
        cols.add(col("Name", 1, "", Meta::name));
      }
      case "ComponentStatus" -> {
        cols.add(col("Status", 0, "", c -> healthy(c, "status").equals("True") ? "Healthy" : "Unhealthy"));
        cols.add(col("Message", 0, "", c -> healthy(c, "message")));
        cols.add(col("Error", 0, "", c -> healthy(c, "error")));
      }
      case "CertificateSigningRequest" -> {
        cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
        cols.add(col("SignerName", 0, "", c -> c.getJsonObject("spec", new JsonObject()).getString("signerName", "")));
        cols.add(col("Requestor", 0, "", c -> c.getJsonObject("spec", new JsonObject()).getString("username", "")));
        cols.add(col("RequestedDuration", 0, "", c -> {
          Object s = c.getJsonObject("spec", new JsonObject()).getValue("expirationSeconds");
          return s instanceof Number n ? Meta.humanDuration(n.longValue()) : "<none>";
        }));
        cols.add(col("Condition", 0, "", Certificates::conditionColumn));
      }
      case "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration" -> {
        cols.add(new Column("Webhooks", "integer", "", 0, "Webhooks indicates the number of webhooks in this configuration.",
            w -> w.getJsonArray("webhooks", new JsonArray()).size()));
        cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
      }
      case "ValidatingAdmissionPolicy" -> {
        cols.add(new Column("Validations", "integer", "", 0, "Validations indicates the number of validation "
            + "expressions", p -> p.getJsonObject("spec", new JsonObject()).getJsonArray("validations", new JsonArray()).size()));
        cols.add(col("ParamKind", 0, "", p -> {
          JsonObject kind = p.getJsonObject("spec", new JsonObject()).getJsonObject("paramKind");
          return kind == null ? "<unset>" : kind.getString("apiVersion", "") + "/" + kind.getString("kind", "");
        }));
        cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
      }
      case "ValidatingAdmissionPolicyBinding" -> {
        cols.add(col("PolicyName", 0, "", b -> b.getJsonObject("spec", new JsonObject()).getString("policyName", "")));
        cols.add(col("ParamRef", 0, "", b -> {
          JsonObject ref = b.getJsonObject("spec", new JsonObject()).getJsonObject("paramRef");
          if (ref == null) return "<unset>";
          if (ref.getString("name") != null) {
            return (ref.getString("namespace") != null ? ref.getString("namespace") : "*") + "/" + ref.getString("name");
          }
          return ref.getJsonObject("selector") != null
              ? LabelSelector.toText(ref.getJsonObject("selector"), false) : "<unset>";
        }));
        cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
      }
      case "Lease" -> {
        cols.add(col("Holder", 0, "", l -> l.getJsonObject("spec", new JsonObject()).getString("holderIdentity", "")));
        cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
      }
      default -> {
        if (type.isCustom()) {
          customColumns(type, cols);
        } else if (!WorkloadColumns.add(type.kind(), cols)) {
          cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
        }
      }
    }
    return cols;
  }

  private static JsonObject eventObject(JsonObject e) {
    return e.getJsonObject("involvedObject", e.getJsonObject("regarding", new JsonObject()));
  }

  private static String eventFirstSeen(JsonObject e) {
    String first = e.getString("firstTimestamp", e.getString("deprecatedFirstTimestamp"));
    return Meta.since(first != null ? first : e.getString("eventTime", Meta.meta(e).getString("creationTimestamp")));
  }

  /** A custom resource's additionalPrinterColumns (simple JSONPaths), or Age alone. */
  private static void customColumns(ResourceType type, List<Column> cols) {
    JsonArray extra = type.custom().getJsonArray("additionalPrinterColumns");
    if (extra == null || extra.isEmpty()) {
      cols.add(col("Age", 0, "CreationTimestamp", Meta::age));
      return;
    }
    for (Object o : extra) {
      JsonObject c = (JsonObject) o;
      String path = c.getString("jsonPath", "");
      String kind = c.getString("type", "string");
      cols.add(new Column(c.getString("name", path), kind, c.getString("format", ""), c.getInteger("priority", 0),
          c.getString("description", ""), obj -> {
            Object v = JsonPaths.read(obj, path);
            if (v == null) return kind.equals("date") ? "<unknown>" : "<none>";
            if (kind.equals("date") && v instanceof String ts) return Meta.since(ts);
            return v instanceof JsonObject || v instanceof JsonArray ? v.toString() : v;
          }));
    }
  }


  /** A field of a ComponentStatus's Healthy condition, "" when absent. */
  private static String healthy(JsonObject c, String field) {
    for (Object o : c.getJsonArray("conditions", new JsonArray())) {
      if (o instanceof JsonObject cond && "Healthy".equals(cond.getString("type"))) return cond.getString(field, "");
    }
    return "";
  }

  static Column col(String name, int priority, String description, Function<JsonObject, Object> cell) {
    return new Column(name, "string", "", priority, description, cell);
  }

  private static JsonObject status(JsonObject o) {
    return o.getJsonObject("status", new JsonObject());
  }

  private static JsonArray containerStatuses(JsonObject pod) {
    return status(pod).getJsonArray("containerStatuses", new JsonArray());
  }

  private static Object podReady(JsonObject pod) {
    return podCells(pod).ready();
  }

  private static Object podRestarts(JsonObject pod) {
    return podCells(pod).restarts();
  }

  static String podStatus(JsonObject pod) {
    return podCells(pod).status();
  }

  /** kubectl's READY, STATUS and RESTARTS cells of a pod. */
  record PodCells(String ready, String status, String restarts) {}

  /**
   * The READY, STATUS and RESTARTS cells as kube-apiserver's pod printer works them out: sidecars
   * (init containers with restartPolicy Always) count as containers; the first unfinished init container
   * gives "Init:..."; then the last container with a waiting or terminated reason wins, a finished pod
   * with a container still running reads Running (NotReady without the Ready condition); a pod being
   * deleted is Terminating unless it has already finished; restarts say how long ago the last one was.
   */
  static PodCells podCells(JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    JsonObject st = status(pod);
    String phase = st.getString("phase", "Pending");
    String reason = st.getString("reason", phase);
    for (Object o : st.getJsonArray("conditions", new JsonArray())) {
      if (o instanceof JsonObject c && "PodScheduled".equals(c.getString("type"))
          && "SchedulingGated".equals(c.getString("reason"))) {
        reason = "SchedulingGated";
      }
    }
    int total = spec.getJsonArray("containers", new JsonArray()).size();
    java.util.Set<String> sidecars = new java.util.HashSet<>();
    JsonArray initSpecs = spec.getJsonArray("initContainers", new JsonArray());
    for (Object o : initSpecs) {
      if (o instanceof JsonObject c && "Always".equals(c.getString("restartPolicy"))) {
        sidecars.add(c.getString("name"));
        total++;
      }
    }
    int ready = 0;
    int restarts = 0;
    int sidecarRestarts = 0;
    String lastRestart = null;
    String lastSidecarRestart = null;
    boolean initializing = false;
    JsonArray inits = st.getJsonArray("initContainerStatuses", new JsonArray());
    for (int i = 0; i < inits.size(); i++) {
      JsonObject cs = inits.getJsonObject(i);
      boolean sidecar = sidecars.contains(cs.getString("name"));
      restarts += cs.getInteger("restartCount", 0);
      lastRestart = later(lastRestart, lastFinished(cs));
      if (sidecar) {
        sidecarRestarts += cs.getInteger("restartCount", 0);
        lastSidecarRestart = later(lastSidecarRestart, lastFinished(cs));
      }
      JsonObject state = cs.getJsonObject("state", new JsonObject());
      JsonObject terminated = state.getJsonObject("terminated");
      JsonObject waiting = state.getJsonObject("waiting");
      if (terminated != null && terminated.getInteger("exitCode", 0) == 0) continue;
      if (sidecar && cs.getBoolean("started", false)) {
        if (cs.getBoolean("ready", false)) ready++;
        continue;
      }
      if (terminated != null) {
        reason = "Init:" + terminatedReason(terminated);
      } else if (waiting != null && !waiting.getString("reason", "").isEmpty()
          && !"PodInitializing".equals(waiting.getString("reason"))) {
        reason = "Init:" + waiting.getString("reason");
      } else {
        reason = "Init:" + i + "/" + initSpecs.size();
      }
      initializing = true;
      break;
    }
    if (!initializing || conditionTrue(st, "Initialized")) {
      restarts = sidecarRestarts;
      lastRestart = lastSidecarRestart;
      boolean running = false;
      JsonArray statuses = containerStatuses(pod);
      for (int i = statuses.size() - 1; i >= 0; i--) {
        JsonObject cs = statuses.getJsonObject(i);
        restarts += cs.getInteger("restartCount", 0);
        lastRestart = later(lastRestart, lastFinished(cs));
        JsonObject state = cs.getJsonObject("state", new JsonObject());
        JsonObject waiting = state.getJsonObject("waiting");
        JsonObject terminated = state.getJsonObject("terminated");
        if (waiting != null && !waiting.getString("reason", "").isEmpty()) {
          reason = waiting.getString("reason");
        } else if (terminated != null) {
          reason = terminatedReason(terminated);
        } else if (cs.getBoolean("ready", false) && state.containsKey("running")) {
          running = true;
          ready++;
        }
      }
      if (reason.equals("Completed") && running) reason = conditionTrue(st, "Ready") ? "Running" : "NotReady";
    }
    if (Meta.meta(pod).containsKey("deletionTimestamp")) {
      if ("NodeLost".equals(st.getString("reason"))) {
        reason = "Unknown";
      } else if (!phase.equals("Succeeded") && !phase.equals("Failed")) {
        reason = "Terminating";
      }
    }
    String restartCell = restarts != 0 && lastRestart != null
        ? restarts + " (" + Meta.since(lastRestart) + " ago)" : String.valueOf(restarts);
    return new PodCells(ready + "/" + total, reason, restartCell);
  }

  private static String terminatedReason(JsonObject terminated) {
    String r = terminated.getString("reason", "");
    if (!r.isEmpty()) return r;
    int signal = terminated.getInteger("signal", 0);
    return signal != 0 ? "Signal:" + signal : "ExitCode:" + terminated.getInteger("exitCode", 0);
  }

  /** When a container's previous run ended, null when it has none. */
  private static String lastFinished(JsonObject containerStatus) {
    JsonObject last = containerStatus.getJsonObject("lastState", new JsonObject()).getJsonObject("terminated");
    return last == null ? null : last.getString("finishedAt");
  }

  private static String later(String a, String b) {
    if (a == null) return b;
    if (b == null) return a;
    return java.time.Instant.parse(b).isAfter(java.time.Instant.parse(a)) ? b : a;
  }

  private static boolean conditionTrue(JsonObject status, String type) {
    for (Object o : status.getJsonArray("conditions", new JsonArray())) {
      if (o instanceof JsonObject c && type.equals(c.getString("type"))) return "True".equals(c.getString("status"));
    }
    return false;
  }

  /** The wide READINESS GATES cell: how many of the pod's gates have their condition True. */
  private static Object podReadinessGates(JsonObject pod) {
    JsonArray gates = pod.getJsonObject("spec", new JsonObject()).getJsonArray("readinessGates", new JsonArray());
    if (gates.isEmpty()) return "<none>";
    int met = 0;
    for (Object g : gates) {
      if (g instanceof JsonObject gate && conditionTrue(status(pod), gate.getString("conditionType", ""))) met++;
    }
    return met + "/" + gates.size();
  }

  private static Object nodeStatus(JsonObject node) {
    String ready = "Unknown";
    for (Object o : status(node).getJsonArray("conditions", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      if ("Ready".equals(c.getString("type"))) {
        ready = switch (c.getString("status", "Unknown")) {
          case "True" -> "Ready";
          case "False" -> "NotReady";
          default -> "Unknown";
        };
      }
    }
    if (node.getJsonObject("spec", new JsonObject()).getBoolean("unschedulable", false)) {
      ready += ",SchedulingDisabled";
    }
    return ready;
  }

  private static Object nodeRoles(JsonObject node) {
    List<String> roles = new ArrayList<>();
    Meta.labels(node).keySet().stream().sorted().forEach(k -> {
      if (k.startsWith("node-role.kubernetes.io/")) roles.add(k.substring("node-role.kubernetes.io/".length()));
    });
    return roles.isEmpty() ? "<none>" : String.join(",", roles);
  }

  private static JsonObject nodeInfo(JsonObject node) {
    return status(node).getJsonObject("nodeInfo", new JsonObject());
  }

  private static Object nodeAddress(JsonObject node, String type) {
    for (Object o : status(node).getJsonArray("addresses", new JsonArray())) {
      JsonObject a = (JsonObject) o;
      if (type.equals(a.getString("type"))) return a.getString("address");
    }
    return "<none>";
  }
}
