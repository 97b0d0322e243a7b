package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * ResourceQuota accounting and the LimitRanger defaults, as the kube-apiserver admission plugins and
 * the quota controller compute them. Pure: objects in, usage or an error out.
 */
public final class Quotas {

  private Quotas() {
  }

  /** The object kinds a quota counts by plural (object-count quotas), besides pods' compute resources. */
  public static final Map<String, String> COUNTED = Map.of("services", "services", "configmaps", "configmaps",
      "secrets", "secrets", "persistentvolumeclaims", "persistentvolumeclaims",
      "replicationcontrollers", "replicationcontrollers", "resourcequotas", "resourcequotas");

  /** Usage of every resource a quota may name, from the namespace's pods and object counts. */
  public static Map<String, Long> usage(List<JsonObject> pods, Map<String, Integer> counts) {
    Map<String, Long> used = new TreeMap<>();
    long podCount = 0;
    for (JsonObject pod : pods) {
      String phase = pod.getJsonObject("status", new JsonObject()).getString("phase", "Pending");
      if (phase.equals("Succeeded") || phase.equals("Failed")) continue;
      podCount++;
      add(used, podResources(pod));
    }
    used.put("pods", podCount);
    used.put("count/pods", podCount);
    counts.forEach((plural, n) -> {
      used.put(plural, (long) n);
      used.put("count/" + plural, (long) n);
    });
    return used;
  }

  /** A pod's quota footprint: requests and limits of cpu (millicores) and memory (bytes). */
  public static Map<String, Long> podResources(JsonObject pod) {
    Map<String, Long> out = new TreeMap<>();
    for (Object o : pod.getJsonObject("spec", new JsonObject()).getJsonArray("containers", new JsonArray())) {
      JsonObject res = ((JsonObject) o).getJsonObject("resources", new JsonObject());
      JsonObject req = res.getJsonObject("requests", new JsonObject());
      JsonObject lim = res.getJsonObject("limits", new JsonObject());
      long reqCpu = Quantities.milli(str(req.getValue("cpu", lim.getValue("cpu"))));
      long reqMem = Quantities.bytes(str(req.getValue("memory", lim.getValue("memory"))));
      add(out, Map.of("requests.cpu", reqCpu, "cpu", reqCpu, "requests.memory", reqMem, "memory", reqMem,
          "limits.cpu", Quantities.milli(str(lim.getValue("cpu"))),
          "limits.memory", Quantities.bytes(str(lim.getValue("memory")))));
    }
    return out;
  }

  /** What one new pod adds to a namespace's usage. */
  public static Map<String, Long> podDelta(JsonObject pod) {
    Map<String, Long> delta = new TreeMap<>(podResources(pod));
    delta.put("pods", 1L);
    delta.put("count/pods", 1L);
    return delta;
  }

  /**
   * The 403 message when adding {@code delta} to {@code used} exceeds one of the quota's hard limits
   * (Kubernetes' wording), or null.
   */
  public static String exceeded(JsonObject quota, Map<String, Long> used, Map<String, Long> delta) {
    JsonObject hard = quota.getJsonObject("spec", new JsonObject()).getJsonObject("hard", new JsonObject());
    List<String> requested = new ArrayList<>();
    List<String> usedList = new ArrayList<>();
    List<String> limited = new ArrayList<>();
    for (String resource : new TreeMap<>(hard.getMap()).keySet()) {
      long d = delta.getOrDefault(resource, 0L);
      if (d == 0) continue;
      long limit = amount(resource, str(hard.getValue(resource)));
      long now = used.getOrDefault(resource, 0L);
      if (now + d > limit) {
        requested.add(resource + "=" + format(resource, d));
        usedList.add(resource + "=" + format(resource, now));
        limited.add(resource + "=" + str(hard.getValue(resource)));
      }
    }
    if (requested.isEmpty()) return null;
    return "exceeded quota: " + Meta.name(quota) + ", requested: " + String.join(",", requested) + ", used: "
        + String.join(",", usedList) + ", limited: " + String.join(",", limited);
  }

  /** The quota's status: hard as given, used in Kubernetes' quantity forms for the resources it names. */
  public static JsonObject status(JsonObject quota, Map<String, Long> used) {
    JsonObject hard = quota.getJsonObject("spec", new JsonObject()).getJsonObject("hard", new JsonObject());
    JsonObject u = new JsonObject();
    for (String resource : hard.fieldNames()) u.put(resource, format(resource, used.getOrDefault(resource, 0L)));
    return new JsonObject().put("hard", hard.copy()).put("used", u);
  }

  /**
   * LimitRanger: containers without requests or limits get the namespace's LimitRange defaults
   * (in place); a container outside a min/max gets Kubernetes' 403 message, returned (null: fine).
   */
  public static String applyLimitRanges(JsonObject pod, List<JsonObject> ranges) {
    for (JsonObject range : ranges) {
      for (Object l : range.getJsonObject("spec", new JsonObject()).getJsonArray("limits", new JsonArray())) {
        JsonObject item = (JsonObject) l;
        if (!"Container".equals(item.getString("type", "Container"))) continue;
        for (Object o : pod.getJsonObject("spec", new JsonObject()).getJsonArray("containers", new JsonArray())) {
          JsonObject c = (JsonObject) o;
          JsonObject res = c.getJsonObject("resources", new JsonObject());
          c.put("resources", res);
          JsonObject lim = res.getJsonObject("limits", new JsonObject());
          JsonObject req = res.getJsonObject("requests", new JsonObject());
          item.getJsonObject("default", new JsonObject()).forEach(e -> {
            if (!lim.containsKey(e.getKey())) lim.put(e.getKey(), e.getValue());
          });
          // A missing request takes defaultRequest, else the (possibly defaulted) limit, as Kubernetes does.
          JsonObject defaultRequest = item.getJsonObject("defaultRequest", new JsonObject());
          java.util.Set<String> names = new java.util.TreeSet<>(defaultRequest.fieldNames());
          names.addAll(item.getJsonObject("default", new JsonObject()).fieldNames());
          for (String name : names) {
            if (!req.containsKey(name)) req.put(name, defaultRequest.getValue(name, lim.getValue(name)));
          }
          if (!lim.isEmpty()) res.put("limits", lim);
          if (!req.isEmpty()) res.put("requests", req);
          for (Map.Entry<String, Object> max : item.getJsonObject("max", new JsonObject())) {
            Object v = lim.getValue(max.getKey());
            if (v != null && amount(max.getKey(), str(v)) > amount(max.getKey(), str(max.getValue()))) {
              return "maximum " + max.getKey() + " usage per Container is " + max.getValue() + ", but limit is " + v;
            }
          }
          for (Map.Entry<String, Object> min : item.getJsonObject("min", new JsonObject())) {
            Object v = req.getValue(min.getKey());
            if (v != null && amount(min.getKey(), str(v)) < amount(min.getKey(), str(min.getValue()))) {
              return "minimum " + min.getKey() + " usage per Container is " + min.getValue() + ", but request is " + v;
            }
          }
        }
      }
    }
    return null;
  }

  private static boolean isCpu(String resource) {
    return resource.equals("cpu") || resource.endsWith(".cpu");
  }

  private static boolean isBytes(String resource) {
    return resource.contains("memory") || resource.contains("storage");
  }

  private static long amount(String resource, String value) {
    if (isCpu(resource)) return Quantities.milli(value);
    if (isBytes(resource)) return Quantities.bytes(value);
    return Quantities.bytes(value);
  }

  static String format(String resource, long v) {
    if (isCpu(resource)) return v % 1000 == 0 ? String.valueOf(v / 1000) : v + "m";
    if (isBytes(resource)) {
      if (v != 0 && v % (1024L * 1024 * 1024) == 0) return v / (1024L * 1024 * 1024) + "Gi";
      if (v != 0 && v % (1024L * 1024) == 0) return v / (1024L * 1024) + "Mi";
      if (v != 0 && v % 1024 == 0) return v / 1024 + "Ki";
    }
    return String.valueOf(v);
  }

  private static void add(Map<String, Long> into, Map<String, Long> more) {
    more.forEach((k, v) -> into.merge(k, v, Long::sum));
  }

  private static String str(Object v) {
    return v == null ? null : String.valueOf(v);
  }
}
