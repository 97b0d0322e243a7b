package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Defaulting as kube-apiserver applies it on create and update. Pure. */
public final class Defaults {

  private Defaults() {
  }

  public static void apply(ResourceType type, JsonObject obj) {
    obj.put("apiVersion", type.apiVersion()).put("kind", type.kind());
    switch (type.kind()) {
      case "Pod" -> pod(obj);
      case "Namespace" -> {
        JsonObject spec = obj.getJsonObject("spec", new JsonObject());
        if (!spec.containsKey("finalizers")) spec.put("finalizers", new JsonArray().add("kubernetes"));
        obj.put("spec", spec);
        JsonObject status = obj.getJsonObject("status", new JsonObject());
        if (!status.containsKey("phase")) status.put("phase", "Active");
        obj.put("status", status);
        JsonObject labels = Meta.meta(obj).getJsonObject("labels", new JsonObject());
        labels.put("kubernetes.io/metadata.name", Meta.name(obj));
        Meta.meta(obj).put("labels", labels);
      }
      default -> { }
    }
  }

  private static void pod(JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    putIfAbsent(spec, "restartPolicy", "Always");
    putIfAbsent(spec, "dnsPolicy", "ClusterFirst");
    putIfAbsent(spec, "schedulerName", "default-scheduler");
    putIfAbsent(spec, "terminationGracePeriodSeconds", 30);
    putIfAbsent(spec, "securityContext", new JsonObject());
    putIfAbsent(spec, "enableServiceLinks", true);
    putIfAbsent(spec, "preemptionPolicy", "PreemptLowerPriority");
    putIfAbsent(spec, "priority", 0);
    if (!spec.containsKey("tolerations")) {
      // The DefaultTolerationSeconds admission plugin's two tolerations.
      spec.put("tolerations", new JsonArray()
          .add(toleration("node.kubernetes.io/not-ready"))
          .add(toleration("node.kubernetes.io/unreachable")));
    }
    for (String list : new String[] {"initContainers", "containers"}) {
      JsonArray cs = spec.getJsonArray(list);
      if (cs == null) continue;
      for (int i = 0; i < cs.size(); i++) container(cs.getJsonObject(i));
    }
    pod.put("spec", spec);
    JsonObject status = pod.getJsonObject("status", new JsonObject());
    putIfAbsent(status, "phase", "Pending");
    putIfAbsent(status, "qosClass", qosClass(spec));
    pod.put("status", status);
  }

  private static JsonObject toleration(String key) {
    return new JsonObject().put("key", key).put("operator", "Exists").put("effect", "NoExecute")
        .put("tolerationSeconds", 300);
  }

  private static void container(JsonObject c) {
    String image = c.getString("image", "");
    String lastSegment = image.substring(image.lastIndexOf('/') + 1);
    boolean latest = !lastSegment.contains(":") || lastSegment.endsWith(":latest");
    putIfAbsent(c, "imagePullPolicy", latest && !image.contains("@") ? "Always" : "IfNotPresent");
    putIfAbsent(c, "terminationMessagePath", "/dev/termination-log");
    putIfAbsent(c, "terminationMessagePolicy", "File");
    putIfAbsent(c, "resources", new JsonObject());
    JsonArray ports = c.getJsonArray("ports");
    if (ports != null) {
      for (int i = 0; i < ports.size(); i++) putIfAbsent(ports.getJsonObject(i), "protocol", "TCP");
    }
  }

  /** Guaranteed when every container has equal cpu and memory limits and requests; else Burstable or BestEffort. */
  static String qosClass(JsonObject spec) {
    boolean any = false;
    boolean guaranteed = true;
    JsonArray cs = spec.getJsonArray("containers", new JsonArray());
    for (int i = 0; i < cs.size(); i++) {
      JsonObject res = cs.getJsonObject(i).getJsonObject("resources", new JsonObject());
      JsonObject req = res.getJsonObject("requests", new JsonObject());
      JsonObject lim = res.getJsonObject("limits", new JsonObject());
      if (!req.isEmpty() || !lim.isEmpty()) any = true;
      for (String r : new String[] {"cpu", "memory"}) {
        Object l = lim.getValue(r);
        Object q = req.containsKey(r) ? req.getValue(r) : l;
        if (l == null || !String.valueOf(l).equals(String.valueOf(q))) guaranteed = false;
      }
    }
    if (!any) return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
  }

  private static void putIfAbsent(JsonObject o, String k, Object v) {
    if (!o.containsKey(k)) o.put(k, v);
  }
}
