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

  /**
   * What {@code quota} counts in a namespace: the pods in its scopes (a scoped quota counts pods alone), the node
   * ports and load balancers of its Services, and object counts. A null quota: everything, unscoped.
   */
  public static Map<String, Long> usage(JsonObject quota, List<JsonObject> pods, List<JsonObject> services,
                                        Map<String, Integer> counts) {
    boolean scoped = quota != null && scoped(quota);
    Map<String, Long> used = new TreeMap<>();
    long podCount = 0;
    for (JsonObject pod : pods) {
      if (quota != null && !inScope(quota, pod)) continue;
      String phase = pod.getJsonObject("status", new JsonObject()).getString("phase", "Pending");
      if (phase.equals("Succeeded") || phase.equals("Failed")) continue;
      podCount++;
      add(used, podResources(pod));
    }
    used.put("pods", podCount);
    used.put("count/pods", podCount);
    if (scoped) return used;
    for (JsonObject svc : services) add(used, serviceDelta(svc));
    counts.forEach((plural, n) -> {
      used.put(plural, (long) n);
      used.put("count/" + plural, (long) n);
    });
    return used;
  }

  /** What a Service counts: its node ports (NodePort and LoadBalancer types) and, a LoadBalancer, one balancer. */
  public static Map<String, Long> serviceDelta(JsonObject svc) {
    JsonObject spec = svc.getJsonObject("spec", new JsonObject());
    String type = spec.getString("type", "ClusterIP");
    long ports = spec.getJsonArray("ports", new JsonArray()).size();
    boolean nodePorts = type.equals("NodePort")
        || type.equals("LoadBalancer") && spec.getBoolean("allocateLoadBalancerNodePorts", true);
    return Map.of("services.nodeports", nodePorts ? ports : 0L, "services.loadbalancers",
        type.equals("LoadBalancer") ? 1L : 0L);
  }

  /** Whether the quota has scopes (spec.scopes or spec.scopeSelector): then it counts only the pods they select. */
  public static boolean scoped(JsonObject quota) {
    JsonObject spec = quota.getJsonObject("spec", new JsonObject());
    return !spec.getJsonArray("scopes", new JsonArray()).isEmpty()
        || !spec.getJsonObject("scopeSelector", new JsonObject()).getJsonArray("matchExpressions", new JsonArray())
        .isEmpty();
  }

  /**
   * Whether a pod is in every scope of the quota, as kube's quota evaluator matches them: Terminating (an
   * activeDeadlineSeconds), NotTerminating, BestEffort (no requests or limits), NotBestEffort, PriorityClass (by the
   * scopeSelector's operator on spec.priorityClassName).
   */
  public static boolean inScope(JsonObject quota, JsonObject pod) {
    JsonObject spec = quota.getJsonObject("spec", new JsonObject());
    List<JsonObject> wanted = new ArrayList<>();
    for (Object s : spec.getJsonArray("scopes", new JsonArray())) {
      wanted.add(new JsonObject().put("scopeName", s).put("operator", "Exists"));
    }
    for (Object e : spec.getJsonObject("scopeSelector", new JsonObject()).getJsonArray("matchExpressions",
        new JsonArray())) {
      wanted.add((JsonObject) e);
    }
    JsonObject podSpec = pod.getJsonObject("spec", new JsonObject());
    for (JsonObject w : wanted) {
      String operator = w.getString("operator", "Exists");
      boolean matches = switch (w.getString("scopeName", "")) {
        case "Terminating" -> podSpec.getValue("activeDeadlineSeconds") != null;
        case "NotTerminating" -> podSpec.getValue("activeDeadlineSeconds") == null;
        case "BestEffort" -> bestEffort(podSpec);
        case "NotBestEffort" -> !bestEffort(podSpec);
        case "PriorityClass" -> {
          String cls = podSpec.getString("priorityClassName");
          JsonArray values = w.getJsonArray("values", new JsonArray());
          yield switch (operator) {
            case "In" -> cls != null && values.contains(cls);
            case "NotIn" -> cls == null || !values.contains(cls);
            case "DoesNotExist" -> cls == null || cls.isEmpty();
            default -> cls != null && !cls.isEmpty();
          };
        }
        default -> true;
      };
      if (!w.getString("scopeName", "").equals("PriorityClass") && operator.equals("DoesNotExist")) matches = !matches;
      if (!matches) return false;
    }
    return true;
  }

  private static boolean bestEffort(JsonObject podSpec) {
    JsonArray containers = podSpec.getJsonArray("initContainers", new JsonArray()).copy()
        .addAll(podSpec.getJsonArray("containers", new JsonArray()));
    for (Object o : containers) {
      JsonObject res = ((JsonObject) o).getJsonObject("resources", new JsonObject());
      if (!res.getJsonObject("requests", new JsonObject()).isEmpty()
          || !res.getJsonObject("limits", new JsonObject()).isEmpty()) {
        return false;
      }
    }
    return true;
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

  /** The compute resources a quota on which makes every container say how much of it it wants. */
  private static final java.util.Set<String> MUST_SPECIFY = java.util.Set.of("cpu", "memory", "requests.cpu",
      "requests.memory", "limits.cpu", "limits.memory");

  /**
   * Kubernetes' quota constraint on pods: when a quota limits cpu or memory requests or limits, each container must
   * set them. Returns "must specify RESOURCE for: CONTAINERS; ..." (resources sorted, containers in pod order), or
   * null when the pod says what the quota needs.
   */
  public static String missing(JsonObject quota, JsonObject pod) {
    JsonObject hard = quota.getJsonObject("spec", new JsonObject()).getJsonObject("hard", new JsonObject());
    java.util.Set<String> required = new java.util.TreeSet<>(hard.fieldNames());
    required.retainAll(MUST_SPECIFY);
    if (required.isEmpty()) return null;
    Map<String, List<String>> missing = new TreeMap<>();
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    JsonArray containers = spec.getJsonArray("initContainers", new JsonArray()).copy()
        .addAll(spec.getJsonArray("containers", new JsonArray()));
    for (int i = 0; i < containers.size(); i++) {
      JsonObject c = containers.getJsonObject(i);
      JsonObject res = c.getJsonObject("resources", new JsonObject());
      JsonObject req = res.getJsonObject("requests", new JsonObject());
      JsonObject lim = res.getJsonObject("limits", new JsonObject());
      java.util.Set<String> has = new java.util.HashSet<>();
      for (String r : List.of("cpu", "memory")) {
        // a limit without a request stands for the request too (Kubernetes defaults requests to limits)
        if (req.containsKey(r) || lim.containsKey(r)) has.addAll(List.of(r, "requests." + r));
        if (lim.containsKey(r)) has.add("limits." + r);
      }
      for (String r : required) {
        if (!has.contains(r)) missing.computeIfAbsent(r, x -> new ArrayList<>()).add(c.getString("name"));
      }
    }
    if (missing.isEmpty()) return null;
    List<String> parts = new ArrayList<>();
    missing.forEach((r, names) -> parts.add(r + " for: " + String.join(",", new java.util.TreeSet<>(names))));
    return "must specify " + String.join("; ", parts);
  }

  /** The quota's status: hard as given, used in Kubernetes' quantity forms for the resources it names. */
  public static JsonObject status(JsonObject quota, Map<String, Long> used) {
    JsonObject hard = quota.getJsonObject("spec", new JsonObject()).getJsonObject("hard", new JsonObject());
    JsonObject u = new JsonObject();
    for (String resource : hard.fieldNames()) u.put(resource, format(resource, used.getOrDefault(resource, 0L)));
    return new JsonObject().put("hard", hard.copy()).put("used", u);
  }

  /**
   * A LimitRange's Container items as Kubernetes defaults them: a default limit from max, a default request from the
   * default limit, else from min (in place; what `kubectl describe limitrange` shows).
   */
  public static void defaultLimitRange(JsonObject range) {
    for (Object l : range.getJsonObject("spec", new JsonObject()).getJsonArray("limits", new JsonArray())) {
      if (!(l instanceof JsonObject item) || !"Container".equals(item.getString("type", "Container"))) continue;
      JsonObject def = item.getJsonObject("default", new JsonObject());
      JsonObject defReq = item.getJsonObject("defaultRequest", new JsonObject());
      item.getJsonObject("max", new JsonObject()).forEach(e -> {
        if (!def.containsKey(e.getKey())) def.put(e.getKey(), e.getValue());
      });
      def.forEach(e -> {
        if (!defReq.containsKey(e.getKey())) defReq.put(e.getKey(), e.getValue());
      });
      item.getJsonObject("min", new JsonObject()).forEach(e -> {
        if (!defReq.containsKey(e.getKey())) defReq.put(e.getKey(), e.getValue());
      });
      if (!def.isEmpty()) item.put("default", def);
      if (!defReq.isEmpty()) item.put("defaultRequest", defReq);
    }
  }

  /**
   * LimitRanger: containers without requests or limits get the namespace's LimitRange defaults (in place, noted in
   * the pod's kubernetes.io/limit-ranger annotation); a container outside a min/max gets Kubernetes' 403 message,
   * returned (null: fine).
   */
  public static String applyLimitRanges(JsonObject pod, List<JsonObject> ranges) {
    List<String> notes = new ArrayList<>();
    String violation = null;
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    for (JsonObject stored : ranges) {
      JsonObject range = stored.copy();
      defaultLimitRange(range);
      for (Object l : range.getJsonObject("spec", new JsonObject()).getJsonArray("limits", new JsonArray())) {
        JsonObject item = (JsonObject) l;
        if (!"Container".equals(item.getString("type", "Container"))) continue;
        for (String list : List.of("containers", "initContainers")) {
          for (Object o : spec.getJsonArray(list, new JsonArray())) {
            JsonObject c = (JsonObject) o;
            JsonObject res = c.getJsonObject("resources", new JsonObject());
            c.put("resources", res);
            JsonObject lim = res.getJsonObject("limits", new JsonObject());
            JsonObject req = res.getJsonObject("requests", new JsonObject());
            String who = (list.equals("containers") ? "container " : "init container ") + c.getString("name");
            List<String> setReq = new ArrayList<>(new java.util.TreeSet<>(item.getJsonObject("defaultRequest",
                new JsonObject()).fieldNames()).stream().filter(k -> !req.containsKey(k)).toList());
            List<String> setLim = new ArrayList<>(new java.util.TreeSet<>(item.getJsonObject("default",
                new JsonObject()).fieldNames()).stream().filter(k -> !lim.containsKey(k)).toList());
            setReq.forEach(k -> req.put(k, item.getJsonObject("defaultRequest").getValue(k)));
            setLim.forEach(k -> lim.put(k, item.getJsonObject("default").getValue(k)));
            if (!setReq.isEmpty()) notes.add(String.join(", ", setReq) + " request for " + who);
            if (!setLim.isEmpty()) notes.add(String.join(", ", setLim) + " limit for " + who);
            if (!lim.isEmpty()) res.put("limits", lim);
            if (!req.isEmpty()) res.put("requests", req);
            if (violation == null) violation = bounds("Container", item, req, lim);
          }
        }
      }
      // A Pod item: the pod's containers together (an init container, which runs alone, counts as its largest).
      for (Object l : range.getJsonObject("spec", new JsonObject()).getJsonArray("limits", new JsonArray())) {
        JsonObject item = (JsonObject) l;
        if (violation == null && "Pod".equals(item.getString("type"))) {
          violation = bounds("Pod", item, podTotal(spec, "requests"), podTotal(spec, "limits"));
        }
      }
    }
    if (!notes.isEmpty()) {
      JsonObject meta = pod.getJsonObject("metadata", new JsonObject());
      JsonObject annotations = meta.getJsonObject("annotations", new JsonObject());
      annotations.put("kubernetes.io/limit-ranger", "LimitRanger plugin set: " + String.join("; ", notes));
      meta.put("annotations", annotations);
      pod.put("metadata", meta);
      // the QoS class follows the resources as the LimitRanger left them (Kubernetes sets it after admission)
      if (pod.getValue("status") instanceof JsonObject status && status.containsKey("qosClass")) {
        status.put("qosClass", Defaults.qosClass(spec));
      }
    }
    return violation;
  }

  /** The pod's requests or limits: its containers' summed, or an init container's when that is more. */
  private static JsonObject podTotal(JsonObject spec, String which) {
    Map<String, Long> total = new TreeMap<>();
    for (Object o : spec.getJsonArray("containers", new JsonArray())) {
      JsonObject values = ((JsonObject) o).getJsonObject("resources", new JsonObject()).getJsonObject(which,
          new JsonObject());
      for (String r : values.fieldNames()) total.merge(r, amount(r, str(values.getValue(r))), Long::sum);
    }
    for (Object o : spec.getJsonArray("initContainers", new JsonArray())) {
      JsonObject values = ((JsonObject) o).getJsonObject("resources", new JsonObject()).getJsonObject(which,
          new JsonObject());
      for (String r : values.fieldNames()) total.merge(r, amount(r, str(values.getValue(r))), Math::max);
    }
    JsonObject out = new JsonObject();
    total.forEach((r, v) -> out.put(r, format(r, v)));
    return out;
  }

  /**
   * A container's (or the pod's) requests and limits against a LimitRange item's min, max and maxLimitRequestRatio,
   * in Kubernetes' words.
   */
  private static String bounds(String kind, JsonObject item, JsonObject req, JsonObject lim) {
    for (Map.Entry<String, Object> min : new TreeMap<>(item.getJsonObject("min", new JsonObject()).getMap()).entrySet()) {
      String r = min.getKey();
      long enforced = amount(r, str(min.getValue()));
      String head = "minimum " + r + " usage per " + kind + " is " + min.getValue();
      if (!req.containsKey(r)) return head + ".  No request is specified";
      if (amount(r, str(req.getValue(r))) < enforced) return head + ", but request is " + req.getValue(r);
      if (lim.containsKey(r) && amount(r, str(lim.getValue(r))) < enforced) {
        return head + ", but limit is " + lim.getValue(r);
      }
    }
    for (Map.Entry<String, Object> max : new TreeMap<>(item.getJsonObject("max", new JsonObject()).getMap()).entrySet()) {
      String r = max.getKey();
      long enforced = amount(r, str(max.getValue()));
      String head = "maximum " + r + " usage per " + kind + " is " + max.getValue();
      if (!lim.containsKey(r)) return head + ".  No limit is specified";
      if (amount(r, str(lim.getValue(r))) > enforced) return head + ", but limit is " + lim.getValue(r);
      if (req.containsKey(r) && amount(r, str(req.getValue(r))) > enforced) {
        return head + ", but request is " + req.getValue(r);
      }
    }
    for (Map.Entry<String, Object> ratio : new TreeMap<>(item.getJsonObject("maxLimitRequestRatio", new JsonObject())
        .getMap()).entrySet()) {
      String r = ratio.getKey();
      String head = r + " max limit to request ratio per " + kind + " is " + ratio.getValue();
      long request = req.containsKey(r) ? amount(r, str(req.getValue(r))) : 0;
      long limit = lim.containsKey(r) ? amount(r, str(lim.getValue(r))) : 0;
      if (request == 0) return head + ", but no request is specified or request is 0";
      if (limit == 0) return head + ", but no limit is specified or limit is 0";
      double observed = (double) limit / request;
      if (observed > Quantities.milli(str(ratio.getValue())) / 1000.0) {
        return head + ", but provided ratio is " + String.format(java.util.Locale.ROOT, "%f", observed);
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
