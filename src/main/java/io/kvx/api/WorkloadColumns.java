package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** kubectl's columns for the kinds beyond pods and nodes: workloads, services, config, policy. Pure. */
final class WorkloadColumns {

  private WorkloadColumns() {
  }

  private static final String AGE_DESC = "CreationTimestamp";

  /** Adds the kind's columns after Name; false when the kind has none of its own. */
  static boolean add(String kind, List<Tables.Column> cols) {
    switch (kind) {
      case "Deployment" -> {
        cols.add(Tables.col("Ready", 0, "", d -> status(d).getInteger("readyReplicas", 0) + "/" + replicas(d)));
        cols.add(Tables.col("Up-to-date", 0, "", d -> status(d).getInteger("updatedReplicas", 0)));
        cols.add(Tables.col("Available", 0, "", d -> status(d).getInteger("availableReplicas", 0)));
        age(cols);
        templateColumns(cols, true);
      }
      case "ReplicaSet", "ReplicationController" -> {
        cols.add(Tables.col("Desired", 0, "", r -> replicas(r)));
        cols.add(Tables.col("Current", 0, "", r -> status(r).getInteger("replicas", 0)));
        cols.add(Tables.col("Ready", 0, "", r -> status(r).getInteger("readyReplicas", 0)));
        age(cols);
        templateColumns(cols, true);
      }
      case "StatefulSet" -> {
        cols.add(Tables.col("Ready", 0, "", s -> status(s).getInteger("readyReplicas", 0) + "/" + replicas(s)));
        age(cols);
        templateColumns(cols, false);
      }
      case "DaemonSet" -> {
        cols.add(Tables.col("Desired", 0, "", d -> status(d).getInteger("desiredNumberScheduled", 0)));
        cols.add(Tables.col("Current", 0, "", d -> status(d).getInteger("currentNumberScheduled", 0)));
        cols.add(Tables.col("Ready", 0, "", d -> status(d).getInteger("numberReady", 0)));
        cols.add(Tables.col("Up-to-date", 0, "", d -> status(d).getInteger("updatedNumberScheduled", 0)));
        cols.add(Tables.col("Available", 0, "", d -> status(d).getInteger("numberAvailable", 0)));
        cols.add(Tables.col("Node Selector", 0, "", d -> labelString(template(d).getJsonObject("spec",
            new JsonObject()).getJsonObject("nodeSelector"))));
        age(cols);
        templateColumns(cols, true);
      }
      case "Job" -> {
        cols.add(Tables.col("Status", 0, "", WorkloadColumns::jobStatus));
        cols.add(Tables.col("Completions", 0, "", j -> status(j).getInteger("succeeded", 0) + "/"
            + spec(j).getValue("completions", 1)));
        cols.add(Tables.col("Duration", 0, "", WorkloadColumns::jobDuration));
        age(cols);
        templateColumns(cols, true);
      }
      case "CronJob" -> {
        cols.add(Tables.col("Schedule", 0, "", c -> spec(c).getString("schedule", "")));
        cols.add(Tables.col("Timezone", 0, "", c -> spec(c).getString("timeZone", "<none>")));
        cols.add(Tables.col("Suspend", 0, "", c -> String.valueOf(spec(c).getBoolean("suspend", false))));
        cols.add(Tables.col("Active", 0, "", c -> status(c).getJsonArray("active", new JsonArray()).size()));
        cols.add(Tables.col("Last Schedule", 0, "", c -> status(c).getString("lastScheduleTime") == null ? "<none>"
            : Meta.since(status(c).getString("lastScheduleTime"))));
        age(cols);
        templateColumns(cols, true);
      }
      case "Service" -> {
        cols.add(Tables.col("Type", 0, "", s -> spec(s).getString("type", "ClusterIP")));
        cols.add(Tables.col("Cluster-IP", 0, "", s -> spec(s).getString("clusterIP", "<none>")));
        cols.add(Tables.col("External-IP", 0, "", WorkloadColumns::externalIp));
        cols.add(Tables.col("Port(s)", 0, "", WorkloadColumns::servicePorts));
        age(cols);
        cols.add(Tables.col("Selector", 1, "", s -> labelString(spec(s).getJsonObject("selector"))));
      }
      case "Endpoints" -> {
        cols.add(Tables.col("Endpoints", 0, "", WorkloadColumns::endpoints));
        age(cols);
      }
      case "EndpointSlice" -> {
        cols.add(Tables.col("AddressType", 0, "", e -> e.getString("addressType", "")));
        cols.add(Tables.col("Ports", 0, "", e -> joinLimited(e.getJsonArray("ports", new JsonArray()).stream()
            .map(p -> String.valueOf(((JsonObject) p).getValue("port", "<unset>"))).toList(), "<unset>")));
        cols.add(Tables.col("Endpoints", 0, "", e -> joinLimited(e.getJsonArray("endpoints", new JsonArray()).stream()
            .flatMap(p -> ((JsonObject) p).getJsonArray("addresses", new JsonArray()).stream().map(String::valueOf))
            .toList(), "<unset>")));
        age(cols);
      }
      case "ConfigMap" -> {
        cols.add(Tables.col("Data", 0, "", c -> c.getJsonObject("data", new JsonObject()).size()
            + c.getJsonObject("binaryData", new JsonObject()).size()));
        age(cols);
      }
      case "Secret" -> {
        cols.add(Tables.col("Type", 0, "", s -> s.getString("type", "Opaque")));
        cols.add(Tables.col("Data", 0, "", s -> s.getJsonObject("data", new JsonObject()).size()));
        age(cols);
      }
      case "ServiceAccount" -> {
        cols.add(Tables.col("Secrets", 0, "", s -> s.getJsonArray("secrets", new JsonArray()).size()));
        age(cols);
      }
      case "PersistentVolumeClaim" -> {
        cols.add(Tables.col("Status", 0, "", WorkloadColumns::volumePhase));
        cols.add(Tables.col("Volume", 0, "", p -> spec(p).getString("volumeName", "")));
        cols.add(Tables.col("Capacity", 0, "", p -> status(p).getJsonObject("capacity", new JsonObject())
            .getString("storage", "")));
        // As kubectl: the modes and capacity the claim got (status), empty while Pending.
        cols.add(Tables.col("Access Modes", 0, "", p -> accessModes(status(p).getJsonArray("accessModes"))));
        cols.add(Tables.col("StorageClass", 0, "", p -> spec(p).getString("storageClassName", "<unset>")));
        cols.add(Tables.col("VolumeAttributesClass", 0, "", p -> spec(p).getString("volumeAttributesClassName",
            "<unset>")));
        age(cols);
        cols.add(Tables.col("VolumeMode", 1, "", p -> spec(p).getString("volumeMode", "<unset>")));
      }
      case "PersistentVolume" -> {
        cols.add(Tables.col("Capacity", 0, "", p -> spec(p).getJsonObject("capacity", new JsonObject())
            .getString("storage", "")));
        cols.add(Tables.col("Access Modes", 0, "", p -> accessModes(spec(p).getJsonArray("accessModes"))));
        cols.add(Tables.col("Reclaim Policy", 0, "", p -> spec(p).getString("persistentVolumeReclaimPolicy", "Retain")));
        cols.add(Tables.col("Status", 0, "", WorkloadColumns::volumePhase));
        cols.add(Tables.col("Claim", 0, "", p -> {
          JsonObject ref = spec(p).getJsonObject("claimRef");
          return ref == null ? "" : ref.getString("namespace", "") + "/" + ref.getString("name", "");
        }));
        cols.add(Tables.col("StorageClass", 0, "", p -> spec(p).getString("storageClassName", "")));
        cols.add(Tables.col("VolumeAttributesClass", 0, "", p -> spec(p).getString("volumeAttributesClassName",
            "<unset>")));
        cols.add(Tables.col("Reason", 0, "", p -> status(p).getString("reason", "")));
        age(cols);
        cols.add(Tables.col("VolumeMode", 1, "", p -> spec(p).getString("volumeMode", "<unset>")));
      }
      case "HorizontalPodAutoscaler" -> {
        cols.add(Tables.col("Reference", 0, "", h -> {
          JsonObject ref = spec(h).getJsonObject("scaleTargetRef", new JsonObject());
          return ref.getString("kind", "") + "/" + ref.getString("name", "");
        }));
        cols.add(Tables.col("Targets", 0, "", WorkloadColumns::hpaTargets));
        cols.add(Tables.col("MinPods", 0, "", h -> spec(h).getValue("minReplicas", 1)));
        cols.add(Tables.col("MaxPods", 0, "", h -> spec(h).getValue("maxReplicas", 0)));
        cols.add(Tables.col("Replicas", 0, "", h -> status(h).getInteger("currentReplicas", 0)));
        age(cols);
      }
      case "PodDisruptionBudget" -> {
        cols.add(Tables.col("Min Available", 0, "", p -> String.valueOf(spec(p).getValue("minAvailable", "N/A"))));
        cols.add(Tables.col("Max Unavailable", 0, "", p -> String.valueOf(spec(p).getValue("maxUnavailable", "N/A"))));
        cols.add(Tables.col("Allowed Disruptions", 0, "", p -> status(p).getInteger("disruptionsAllowed", 0)));
        age(cols);
      }
      case "PriorityClass" -> {
        cols.add(Tables.col("Value", 0, "", p -> p.getValue("value", 0)));
        cols.add(Tables.col("Global-Default", 0, "", p -> String.valueOf(p.getBoolean("globalDefault", false))));
        age(cols);
        cols.add(Tables.col("PreemptionPolicy", 0, "", p -> p.getString("preemptionPolicy", "PreemptLowerPriority")));
      }
      case "RoleBinding", "ClusterRoleBinding" -> {
        cols.add(Tables.col("Role", 0, "", b -> {
          JsonObject ref = b.getJsonObject("roleRef", new JsonObject());
          return ref.getString("kind", "") + "/" + ref.getString("name", "");
        }));
        age(cols);
        cols.add(Tables.col("Users", 1, "", b -> subjects(b, "User", false)));
        cols.add(Tables.col("Groups", 1, "", b -> subjects(b, "Group", false)));
        cols.add(Tables.col("ServiceAccounts", 1, "", b -> subjects(b, "ServiceAccount", true)));
      }
      case "StorageClass" -> {
        cols.add(Tables.col("Provisioner", 0, "", c -> c.getString("provisioner", "")));
        cols.add(Tables.col("ReclaimPolicy", 0, "", c -> c.getString("reclaimPolicy", "Delete")));
        cols.add(Tables.col("VolumeBindingMode", 0, "", c -> c.getString("volumeBindingMode", "Immediate")));
        cols.add(Tables.col("AllowVolumeExpansion", 0, "", c -> String.valueOf(c.getBoolean("allowVolumeExpansion",
            false))));
        age(cols);
      }
      case "ResourceQuota" -> {
        age(cols);
        cols.add(Tables.col("Request", 0, "", q -> quotaUsage(q, false)));
        cols.add(Tables.col("Limit", 0, "", q -> quotaUsage(q, true)));
      }
      case "Ingress" -> {
        cols.add(Tables.col("Class", 0, "", i -> spec(i).getString("ingressClassName", "<none>")));
        cols.add(Tables.col("Hosts", 0, "", i -> {
          List<String> hosts = new ArrayList<>();
          for (Object r : spec(i).getJsonArray("rules", new JsonArray())) {
            hosts.add(((JsonObject) r).getString("host", "*"));
          }
          return hosts.isEmpty() ? "*" : String.join(",", hosts);
        }));
        cols.add(Tables.col("Address", 0, "", i -> {
          List<String> addrs = new ArrayList<>();
          for (Object o : status(i).getJsonObject("loadBalancer", new JsonObject()).getJsonArray("ingress",
              new JsonArray())) {
            JsonObject a = (JsonObject) o;
            addrs.add(a.getString("ip", a.getString("hostname", "")));
          }
          return String.join(",", addrs);
        }));
        cols.add(Tables.col("Ports", 0, "", i -> spec(i).getJsonArray("tls", new JsonArray()).isEmpty() ? "80"
            : "80, 443"));
        age(cols);
      }
      case "IngressClass" -> {
        cols.add(Tables.col("Controller", 0, "", c -> spec(c).getString("controller", "")));
        cols.add(Tables.col("Parameters", 0, "", c -> {
          JsonObject p = spec(c).getJsonObject("parameters");
          if (p == null) return "<none>";
          String group = p.getString("apiGroup");
          return (group == null ? "" : group + "/") + p.getString("kind", "") + "/" + p.getString("name", "");
        }));
        age(cols);
      }
      case "NetworkPolicy" -> {
        cols.add(Tables.col("Pod-Selector", 0, "", n -> {
          String text = LabelSelector.toText(spec(n).getJsonObject("podSelector", new JsonObject()), false);
          return text.isEmpty() ? "<none>" : text;
        }));
        age(cols);
      }
      case "PodTemplate" -> {
        cols.add(Tables.col("Containers", 0, "", t -> String.join(",", names(t, "name"))));
        cols.add(Tables.col("Images", 0, "", t -> String.join(",", names(t, "image"))));
        cols.add(Tables.col("Pod Labels", 0, "", t -> labelString(t.getJsonObject("template", new JsonObject())
            .getJsonObject("metadata", new JsonObject()).getJsonObject("labels"))));
      }
      case "LimitRange", "Role", "ClusterRole", "CustomResourceDefinition" ->
          cols.add(Tables.col("Created At", 0, "", r -> Meta.meta(r).getString("creationTimestamp", "")));
      case "ControllerRevision" -> {
        cols.add(Tables.col("Controller", 0, "", r -> {
          JsonArray refs = Meta.meta(r).getJsonArray("ownerReferences", new JsonArray());
          if (refs.isEmpty()) return "<none>";
          JsonObject ref = refs.getJsonObject(0);
          String group = ref.getString("apiVersion", "").contains("/")
              ? "." + ref.getString("apiVersion").substring(0, ref.getString("apiVersion").indexOf('/')) : "";
          return ref.getString("kind", "").toLowerCase() + group + "/" + ref.getString("name", "");
        }));
        cols.add(Tables.col("Revision", 0, "", r -> r.getValue("revision", 0)));
        age(cols);
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private static void age(List<Tables.Column> cols) {
    cols.add(Tables.col("Age", 0, AGE_DESC, Meta::age));
  }

  private static JsonObject spec(JsonObject o) {
    return o.getJsonObject("spec", new JsonObject());
  }

  private static JsonObject status(JsonObject o) {
    return o.getJsonObject("status", new JsonObject());
  }

  private static Object replicas(JsonObject o) {
    return spec(o).getValue("replicas", 1);
  }

  /** The spec that holds the pod template and selector: a CronJob's jobTemplate.spec, else the object's spec. */
  private static JsonObject podOwnerSpec(JsonObject o) {
    JsonObject spec = spec(o);
    return spec.containsKey("jobTemplate") ? spec.getJsonObject("jobTemplate").getJsonObject("spec", new JsonObject())
        : spec;
  }

  /** The pod template a workload (or a PodTemplate, or a CronJob's job template) carries; empty when it has none. */
  static JsonObject template(JsonObject o) {
    if (o.getValue("template") instanceof JsonObject t) return t; // PodTemplate
    return podOwnerSpec(o).getJsonObject("template", new JsonObject());
  }

  /** A binding's subjects of one kind, comma-separated (service accounts as namespace/name). */
  private static String subjects(JsonObject binding, String kind, boolean namespaced) {
    List<String> out = new ArrayList<>();
    for (Object o : binding.getJsonArray("subjects", new JsonArray())) {
      if (!(o instanceof JsonObject s) || !kind.equals(s.getString("kind"))) continue;
      out.add(namespaced ? s.getString("namespace", "") + "/" + s.getString("name", "") : s.getString("name", ""));
    }
    return String.join(", ", out);
  }

  /** The -o wide columns: containers, images and the selector. */
  private static void templateColumns(List<Tables.Column> cols, boolean selector) {
    cols.add(Tables.col("Containers", 1, "", o -> String.join(",", names(o, "name"))));
    cols.add(Tables.col("Images", 1, "", o -> String.join(",", names(o, "image"))));
    if (selector) cols.add(Tables.col("Selector", 1, "", o -> {
      Object sel = podOwnerSpec(o).getValue("selector");
      if (!(sel instanceof JsonObject s)) return "<none>";
      if (s.containsKey("matchLabels") || s.containsKey("matchExpressions")) {
        String text = LabelSelector.toText(s, false);
        return text.isEmpty() ? "<none>" : text;
      }
      return labelString(s);
    }));
  }

  private static List<String> names(JsonObject o, String field) {
    List<String> out = new ArrayList<>();
    for (Object c : template(o).getJsonObject("spec", new JsonObject()).getJsonArray("containers", new JsonArray())) {
      out.add(((JsonObject) c).getString(field, ""));
    }
    return out;
  }

  static String labelString(JsonObject map) {
    if (map == null || map.isEmpty()) return "<none>";
    List<String> parts = new ArrayList<>();
    new TreeMap<>(map.getMap()).forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(",", parts);
  }

  private static String jobStatus(JsonObject job) {
    for (Object o : status(job).getJsonArray("conditions", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      if (!"True".equals(c.getString("status"))) continue;
      switch (c.getString("type", "")) {
        case "Complete" -> {
          return "Complete";
        }
        case "Failed" -> {
          return "Failed";
        }
        case "Suspended" -> {
          return "Suspended";
        }
        default -> { }
      }
    }
    return "Running";
  }

  private static String jobDuration(JsonObject job) {
    String start = status(job).getString("startTime");
    if (start == null) return "";
    String end = status(job).getString("completionTime");
    Instant to = end == null ? Instant.now() : Instant.parse(end);
    return Meta.humanDuration(Duration.between(Instant.parse(start), to).getSeconds());
  }

  private static String externalIp(JsonObject svc) {
    JsonObject spec = spec(svc);
    String type = spec.getString("type", "ClusterIP");
    JsonArray external = spec.getJsonArray("externalIPs", new JsonArray());
    if (type.equals("ExternalName")) return spec.getString("externalName", "<none>");
    if (type.equals("LoadBalancer")) {
      List<String> ips = new ArrayList<>();
      for (Object o : status(svc).getJsonObject("loadBalancer", new JsonObject()).getJsonArray("ingress",
          new JsonArray())) {
        JsonObject i = (JsonObject) o;
        ips.add(i.getString("ip", i.getString("hostname", "")));
      }
      external.forEach(e -> ips.add(String.valueOf(e)));
      return ips.isEmpty() ? "<pending>" : String.join(",", ips);
    }
    return external.isEmpty() ? "<none>" : String.join(",", external.stream().map(String::valueOf).toList());
  }

  private static String servicePorts(JsonObject svc) {
    List<String> parts = new ArrayList<>();
    for (Object o : spec(svc).getJsonArray("ports", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      String s = p.getValue("port") + (p.getValue("nodePort") != null ? ":" + p.getValue("nodePort") : "") + "/"
          + p.getString("protocol", "TCP");
      parts.add(s);
    }
    return parts.isEmpty() ? "<none>" : String.join(",", parts);
  }

  private static String endpoints(JsonObject ep) {
    List<String> out = new ArrayList<>();
    for (Object o : ep.getJsonArray("subsets", new JsonArray())) {
      JsonObject subset = (JsonObject) o;
      JsonArray ports = subset.getJsonArray("ports", new JsonArray());
      for (Object a : subset.getJsonArray("addresses", new JsonArray())) {
        String ip = ((JsonObject) a).getString("ip");
        if (ports.isEmpty()) out.add(ip);
        for (Object p : ports) out.add(ip + ":" + ((JsonObject) p).getValue("port"));
      }
    }
    return joinLimited(out, "<none>");
  }

  /** At most three entries and "+ N more...", as kubectl prints long lists. */
  private static String joinLimited(List<String> items, String empty) {
    if (items.isEmpty()) return empty;
    if (items.size() <= 3) return String.join(",", items);
    return String.join(",", items.subList(0, 3)) + " + " + (items.size() - 3) + " more...";
  }

  private static String accessModes(JsonArray modes) {
    if (modes == null) return "";
    Map<String, String> shortNames = Map.of("ReadWriteOnce", "RWO", "ReadOnlyMany", "ROX", "ReadWriteMany", "RWX",
        "ReadWriteOncePod", "RWOP");
    List<String> out = new ArrayList<>();
    modes.forEach(m -> out.add(shortNames.getOrDefault(String.valueOf(m), String.valueOf(m))));
    return String.join(",", out);
  }

  /** kubectl's TARGETS column: "cpu: 200%/50%" per metric (current/target), "<unknown>" before a reading. */
  static String hpaTargets(JsonObject hpa) {
    // kube prints every version from its internal form: an autoscaling/v1 object shows as its stored v2
    if ("autoscaling/v1".equals(hpa.getString("apiVersion"))) hpa = Conversions.hpaToV2(hpa);
    JsonArray metrics = spec(hpa).getJsonArray("metrics", new JsonArray());
    JsonArray current = status(hpa).getJsonArray("currentMetrics", new JsonArray());
    List<String> out = new ArrayList<>();
    for (int i = 0; i < metrics.size() && i < 3; i++) {
      JsonObject m = metrics.getJsonObject(i);
      String type = m.getString("type", "");
      String key = Character.toLowerCase(type.isEmpty() ? 'r' : type.charAt(0)) + (type.isEmpty() ? "esource" : type.substring(1));
      JsonObject source = m.getJsonObject(key, new JsonObject());
      JsonObject target = source.getJsonObject("target", new JsonObject());
      JsonObject cur = i < current.size() ? current.getJsonObject(i).getJsonObject(key, new JsonObject())
          .getJsonObject("current", new JsonObject()) : new JsonObject();
      String name = source.getString("name", source.getJsonObject("metric", new JsonObject()).getString("name", ""));
      String value;
      if (target.getValue("averageUtilization") != null) {
        Object now = cur.getValue("averageUtilization");
        value = (now == null ? "<unknown>" : now + "%") + "/" + target.getValue("averageUtilization") + "%";
      } else {
        Object goal = target.getValue("averageValue", target.getValue("value", "<auto>"));
        Object now = cur.getValue("averageValue", cur.getValue("value"));
        value = (now == null ? "<unknown>" : now) + "/" + goal + (type.equals("Pods") ? " (avg)" : "");
      }
      out.add(name.isEmpty() ? value : name + ": " + value);
    }
    if (out.isEmpty()) return "<none>";
    String joined = String.join(", ", out);
    return metrics.size() > 3 ? joined + " + " + (metrics.size() - 3) + " more..." : joined;
  }

  /** kubectl's "local-path (default)" for the default StorageClass. */
  static Object storageClassName(JsonObject sc) {
    boolean dflt = "true".equals(Meta.meta(sc).getJsonObject("annotations", new JsonObject())
        .getString("storageclass.kubernetes.io/is-default-class"));
    return Meta.name(sc) + (dflt ? " (default)" : "");
  }

  /** A quota's "pods: 1/10, requests.cpu: 0/2" for its request (or limits.*) resources, by name. */
  static String quotaUsage(JsonObject quota, boolean limits) {
    JsonObject hard = status(quota).getJsonObject("hard", spec(quota).getJsonObject("hard", new JsonObject()));
    JsonObject used = status(quota).getJsonObject("used", new JsonObject());
    List<String> parts = new ArrayList<>();
    for (String name : new TreeMap<>(hard.getMap()).keySet()) {
      if (name.startsWith("limits.") != limits) continue;
      parts.add(name + ": " + used.getValue(name, "0") + "/" + hard.getValue(name));
    }
    return String.join(", ", parts);
  }

  /** A claim's or volume's phase, "Terminating" once it is being deleted (kubectl's STATUS). */
  static String volumePhase(JsonObject o) {
    return Meta.meta(o).containsKey("deletionTimestamp") ? "Terminating" : status(o).getString("phase", "Pending");
  }
}
