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
        cols.add(col("IP", 1, "IP address allocated to the pod.", p -> status(p).getString("podIP", "<none>")));
        cols.add(col("Node", 1, "Name of the node the pod is assigned to.",
            p -> p.getJsonObject("spec", new JsonObject()).getString("nodeName", "<none>")));
        cols.add(col("Nominated Node", 1, "Name of the node the pod is nominated to.",
            p -> status(p).getString("nominatedNodeName", "<none>")));
        cols.add(col("Readiness Gates", 1, "Pod readiness gates.", p -> "<none>"));
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
    int total = pod.getJsonObject("spec", new JsonObject()).getJsonArray("containers", new JsonArray()).size();
    int ready = 0;
    for (Object o : containerStatuses(pod)) {
      if (o instanceof JsonObject cs && cs.getBoolean("ready", false)) ready++;
    }
    return ready + "/" + total;
  }

  private static Object podRestarts(JsonObject pod) {
    int restarts = 0;
    for (Object o : containerStatuses(pod)) {
      if (o instanceof JsonObject cs) restarts += cs.getInteger("restartCount", 0);
    }
    return String.valueOf(restarts);
  }

  /** kubectl's pod STATUS: a waiting or terminated reason beats the phase; Terminating wins. */
  static String podStatus(JsonObject pod) {
    JsonObject st = status(pod);
    String reason = st.getString("reason", st.getString("phase", "Pending"));
    JsonArray inits = st.getJsonArray("initContainerStatuses", new JsonArray());
    for (int i = 0; i < inits.size(); i++) {
      JsonObject state = inits.getJsonObject(i).getJsonObject("state", new JsonObject());
      if (state.containsKey("terminated") && state.getJsonObject("terminated").getInteger("exitCode", 0) == 0) continue;
      if (state.containsKey("terminated")) {
        JsonObject t = state.getJsonObject("terminated");
        return "Init:" + t.getString("reason", "ExitCode:" + t.getInteger("exitCode", 0));
      }
      if (state.containsKey("waiting")) {
        String w = state.getJsonObject("waiting").getString("reason", "");
        if (!w.isEmpty() && !w.equals("PodInitializing")) return "Init:" + w;
      }
      return "Init:" + i + "/" + inits.size();
    }
    boolean running = false;
    for (Object o : containerStatuses(pod)) {
      JsonObject state = ((JsonObject) o).getJsonObject("state", new JsonObject());
      if (state.containsKey("waiting") && state.getJsonObject("waiting").getString("reason") != null) {
        reason = state.getJsonObject("waiting").getString("reason");
      } else if (state.containsKey("terminated")) {
        JsonObject t = state.getJsonObject("terminated");
        reason = t.getString("reason", t.containsKey("signal") ? "Signal:" + t.getInteger("signal")
            : "ExitCode:" + t.getInteger("exitCode", 0));
      } else if (state.containsKey("running")) {
        running = true;
      }
    }
    if (running && reason.equals("Completed")) reason = "Running";
    if (Meta.meta(pod).containsKey("deletionTimestamp")) {
      reason = "NodeLost".equals(st.getString("reason")) ? "Unknown" : "Terminating";
    }
    return reason;
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
