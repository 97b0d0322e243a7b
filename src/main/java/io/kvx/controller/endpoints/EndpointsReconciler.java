package io.kvx.controller.endpoints;

import io.kvx.api.ApiError;
import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.kvx.controller.Workloads;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The endpoints and endpointslice controllers: for each service with a selector, the pods it selects
 * that have an IP become its Endpoints (ready in addresses, others in notReadyAddresses unless
 * publishNotReadyAddresses) and one EndpointSlice, with target ports resolved per pod (a named
 * targetPort looks the container port up by name), slices grouped by resolved ports. Services without a
 * selector get their hand-written Endpoints mirrored into slices, as the endpointslice mirroring
 * controller does, so that the proxy, which reads slices only, serves them.
 */
public final class EndpointsReconciler implements Reconciler {

  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  private static final String MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
  private static final String MANAGER = "endpointslice-controller.k8s.io";
  private static final String MIRROR_MANAGER = "endpointslicemirroring-controller.k8s.io";
  /** The endpointslice controller's default --max-endpoints-per-slice. */
  static final int MAX_PER_SLICE = 100;

  private final Cache services;
  private final Cache pods;
  private final Cache endpoints;
  private final Cache slices;
  private final ApiClient client;
  private final ResourceType endpointsType = Resources.builtIn("", "endpoints");
  private final ResourceType sliceType = Resources.builtIn("discovery.k8s.io", "endpointslices");

  public EndpointsReconciler(Cache services, Cache pods, Cache endpoints, Cache slices, ApiClient client,
                             Consumer<String> enqueue) {
    this.services = services;
    this.pods = pods;
    this.endpoints = endpoints;
    this.slices = slices;
    this.client = client;
    services.listen(c -> enqueue.accept(Cache.key(c.object())));
    endpoints.listen(c -> {
      JsonObject svc = services.get(Cache.key(c.object()));
      if (svc != null && selector(svc) == null) enqueue.accept(Cache.key(svc));
    });
    pods.listen(c -> {
      String ns = Meta.namespace(c.object());
      for (JsonObject svc : services.list(ns)) {
        LabelSelector sel = selector(svc);
        if (sel == null) continue;
        if ((c.old() != null && sel.matches(Meta.labels(c.old())))
            || (c.current() != null && sel.matches(Meta.labels(c.current())))) {
          enqueue.accept(Cache.key(svc));
        }
      }
    });
  }

  @Override
  public String name() {
    return "endpoints";
  }

  private static LabelSelector selector(JsonObject svc) {
    JsonObject sel = svc.getJsonObject("spec", new JsonObject()).getJsonObject("selector");
    return sel == null || sel.isEmpty() ? null : LabelSelector.fromMatchLabels(sel);
  }

  @Override
  public Future<Result> reconcile(String key) {
    JsonObject svc = services.get(key);
    String ns = key.substring(0, key.indexOf('/'));
    String name = key.substring(key.indexOf('/') + 1);
    if (svc == null) {
      List<Future<?>> gone = new ArrayList<>();
      JsonObject ep = endpoints.get(ns, name);
      if (ep != null && Meta.labels(ep).containsKey(SERVICE_NAME_LABEL)) {
        gone.add(client.delete(endpointsType, ns, name, null).recover(ApiError.ignoring(ApiError.Reason.NotFound)));
      }
      List<JsonObject> owned = new ArrayList<>(ownedSlices(ns, name, MANAGER));
      owned.addAll(ownedSlices(ns, name, MIRROR_MANAGER));
      for (JsonObject slice : owned) {
        gone.add(client.delete(sliceType, ns, Meta.name(slice), null)
            .recover(ApiError.ignoring(ApiError.Reason.NotFound)));
      }
      return Future.all(gone).map(Result.DONE);
    }
    LabelSelector sel = selector(svc);
    if (sel == null) {
      // No selector: the user writes Endpoints; mirror them into slices (the mirroring controller's job).
      return Future.all(syncSlices(svc, MIRROR_MANAGER, mirroredSlices(endpoints.get(ns, name))),
          syncSlices(svc, MANAGER, List.of())).map(Result.DONE);
    }
    List<JsonObject> selected = pods.list(ns).stream().filter(p -> sel.matches(Meta.labels(p))).toList();
    JsonArray subsets = subsets(svc, selected);
    return Future.all(syncEndpoints(svc, subsets), syncSlices(svc, MANAGER, desiredSlices(svc, selected)),
        syncSlices(svc, MIRROR_MANAGER, List.of())).map(Result.DONE);
  }

  /**
   * The hostname an endpoint of this pod carries, as Kubernetes sets it: the pod's spec.hostname when its
   * spec.subdomain names the service (a StatefulSet's pods under its governing service); else null.
   */
  static String hostnameFor(JsonObject svc, JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    String hostname = spec.getString("hostname", "");
    if (hostname.isEmpty() || !Meta.name(svc).equals(spec.getString("subdomain"))
        || !java.util.Objects.equals(Meta.namespace(svc), Meta.namespace(pod))) {
      return null;
    }
    return hostname;
  }

  /** Endpoints subsets: addresses grouped by their resolved port list. Pure. */
  public static JsonArray subsets(JsonObject svc, List<JsonObject> pods) {
    JsonObject spec = svc.getJsonObject("spec", new JsonObject());
    boolean publishNotReady = spec.getBoolean("publishNotReadyAddresses", false);
    Map<String, JsonObject> byPorts = new LinkedHashMap<>();
    List<JsonObject> sorted = new ArrayList<>(pods);
    sorted.sort(java.util.Comparator.comparing(Meta::name));
    for (JsonObject pod : sorted) {
      String ip = pod.getJsonObject("status", new JsonObject()).getString("podIP");
      if (ip == null || ip.isEmpty() || Workloads.isDeleting(pod) && !publishNotReady) continue;
      String phase = Workloads.phase(pod);
      if (phase.equals("Succeeded") || phase.equals("Failed")) continue;
      JsonArray ports = resolvePorts(spec.getJsonArray("ports", new JsonArray()), pod);
      if (ports == null) continue;
      JsonObject address = new JsonObject().put("ip", ip)
          .put("targetRef", new JsonObject().put("kind", "Pod").put("namespace", Meta.namespace(pod))
              .put("name", Meta.name(pod)).put("uid", Meta.uid(pod)));
      String node = pod.getJsonObject("spec", new JsonObject()).getString("nodeName");
      if (hostnameFor(svc, pod) != null) address.put("hostname", hostnameFor(svc, pod));
      if (node != null) address.put("nodeName", node);
      JsonObject subset = byPorts.computeIfAbsent(ports.encode(), k -> new JsonObject().put("ports", ports));
      boolean ready = (Workloads.isReady(pod) && !Workloads.isDeleting(pod)) || publishNotReady;
      String list = ready ? "addresses" : "notReadyAddresses";
      JsonArray addrs = subset.getJsonArray(list, new JsonArray());
      addrs.add(address);
      subset.put(list, addrs);
    }
    JsonArray out = new JsonArray();
    byPorts.values().forEach(out::add);
    return out;
  }

  /** The service's ports with targetPort resolved for this pod; null when a named port is missing. */
  static JsonArray resolvePorts(JsonArray servicePorts, JsonObject pod) {
    JsonArray out = new JsonArray();
    for (Object o : servicePorts) {
      JsonObject sp = (JsonObject) o;
      Object target = sp.getValue("targetPort", sp.getValue("port"));
      Integer port = null;
      if (target instanceof Number n) {
        port = n.intValue();
      } else if (target instanceof String s) {
        port = s.matches("\\d+") ? Integer.valueOf(s) : Meta.namedContainerPort(pod, s);
      }
      if (port == null) continue;
      JsonObject ep = new JsonObject().put("port", port).put("protocol", sp.getString("protocol", "TCP"));
      if (sp.getString("name") != null && !sp.getString("name").isEmpty()) ep.put("name", sp.getString("name"));
      if (sp.getString("appProtocol") != null) ep.put("appProtocol", sp.getString("appProtocol"));
      out.add(ep);
    }
    return servicePorts.isEmpty() || !out.isEmpty() ? out : null;
  }

  private Future<?> syncEndpoints(JsonObject svc, JsonArray subsets) {
    String ns = Meta.namespace(svc);
    JsonObject current = endpoints.get(ns, Meta.name(svc));
    JsonObject labels = new JsonObject();
    Meta.labels(svc).forEach(labels::put);
    labels.put(SERVICE_NAME_LABEL, Meta.name(svc));
    if (current == null) {
      JsonObject ep = new JsonObject().put("metadata", new JsonObject().put("name", Meta.name(svc)).put("labels", labels))
          .put("subsets", subsets);
      return client.create(endpointsType, ns, ep).recover(ApiError.ignoring(ApiError.Reason.AlreadyExists));
    }
    if (current.getJsonArray("subsets", new JsonArray()).equals(subsets)
        && labels.equals(Meta.meta(current).getJsonObject("labels", new JsonObject()))) {
      return Future.succeededFuture();
    }
    JsonObject next = current.copy().put("subsets", subsets);
    Meta.meta(next).put("labels", labels);
    return client.update(endpointsType, ns, Meta.name(svc), next);
  }

  private List<JsonObject> ownedSlices(String ns, String service, String manager) {
    return slices.list(ns).stream().filter(s -> service.equals(Meta.labels(s).get(SERVICE_NAME_LABEL))
        && manager.equals(Meta.labels(s).get(MANAGED_BY))).sorted(java.util.Comparator.comparing(Meta::name))
        .toList();
  }

  /**
   * A slice's ports name every port, "" for an unnamed one, as Kubernetes' controllers write them
   * (EndpointPort.name is a pointer there, and `kubectl describe service` dereferences it).
   */
  private static JsonArray slicePorts(JsonArray ports) {
    if (ports == null) return null;
    JsonArray out = new JsonArray();
    for (Object o : ports) {
      JsonObject p = ((JsonObject) o).copy();
      if (!p.containsKey("name")) p.put("name", "");
      out.add(p);
    }
    return out;
  }

  /**
   * The service's slices, as the endpointslice controller cuts them: pods grouped by their resolved
   * port list (a named targetPort may resolve to different numbers per pod, and a slice has one port
   * list), at most {@link #MAX_PER_SLICE} endpoints a slice. Each result holds "endpoints" and "ports". Pure.
   */
  public static List<JsonObject> desiredSlices(JsonObject svc, List<JsonObject> selected) {
    String ns = Meta.namespace(svc);
    JsonObject spec = svc.getJsonObject("spec", new JsonObject());
    boolean publishNotReady = spec.getBoolean("publishNotReadyAddresses", false);
    Map<String, JsonArray> byPorts = new LinkedHashMap<>();
    Map<String, JsonArray> portLists = new LinkedHashMap<>();
    List<JsonObject> sorted = new ArrayList<>(selected);
    sorted.sort(java.util.Comparator.comparing(Meta::name));
    for (JsonObject pod : sorted) {
      String ip = pod.getJsonObject("status", new JsonObject()).getString("podIP");
      String phase = Workloads.phase(pod);
      if (ip == null || ip.isEmpty() || phase.equals("Succeeded") || phase.equals("Failed")) continue;
      JsonArray resolved = slicePorts(resolvePorts(spec.getJsonArray("ports", new JsonArray()), pod));
      if (resolved == null) continue;
      boolean terminating = Workloads.isDeleting(pod);
      boolean ready = Workloads.isReady(pod);
      JsonObject ep = new JsonObject().put("addresses", new JsonArray().add(ip))
          .put("conditions", new JsonObject().put("ready", (ready && !terminating) || publishNotReady)
              .put("serving", ready).put("terminating", terminating))
          .put("targetRef", new JsonObject().put("kind", "Pod").put("namespace", ns).put("name", Meta.name(pod))
              .put("uid", Meta.uid(pod)));
      String node = pod.getJsonObject("spec", new JsonObject()).getString("nodeName");
      if (hostnameFor(svc, pod) != null) ep.put("hostname", hostnameFor(svc, pod));
      if (node != null) ep.put("nodeName", node);
      String k = resolved.encode();
      portLists.putIfAbsent(k, resolved);
      byPorts.computeIfAbsent(k, x -> new JsonArray()).add(ep);
    }
    List<JsonObject> out = new ArrayList<>();
    byPorts.forEach((k, eps) -> {
      for (int i = 0; i < eps.size(); i += MAX_PER_SLICE) {
        out.add(new JsonObject().put("endpoints", new JsonArray(eps.getList().subList(i, Math.min(eps.size(),
            i + MAX_PER_SLICE)))).put("ports", portLists.get(k)));
      }
    });
    if (out.isEmpty()) {
      JsonArray ports = slicePorts(resolvePorts(spec.getJsonArray("ports", new JsonArray()), new JsonObject()));
      out.add(new JsonObject().put("endpoints", new JsonArray()).put("ports", ports == null ? new JsonArray() : ports));
    }
    return out;
  }

  /**
   * The endpointslice mirroring controller's view of a hand-written Endpoints object (for a service
   * without a selector): one slice per subset, its addresses ready, its notReadyAddresses not. Pure.
   */
  public static List<JsonObject> mirroredSlices(JsonObject endpoints) {
    List<JsonObject> out = new ArrayList<>();
    if (endpoints == null) return out;
    for (Object o : endpoints.getJsonArray("subsets", new JsonArray())) {
      JsonObject subset = (JsonObject) o;
      JsonArray ports = new JsonArray();
      for (Object po : subset.getJsonArray("ports", new JsonArray())) {
        JsonObject p = (JsonObject) po;
        JsonObject port = new JsonObject().put("port", p.getInteger("port")).put("protocol", p.getString("protocol", "TCP"));
        port.put("name", p.getString("name", ""));
        if (p.getString("appProtocol") != null) port.put("appProtocol", p.getString("appProtocol"));
        ports.add(port);
      }
      JsonArray eps = new JsonArray();
      for (String list : List.of("addresses", "notReadyAddresses")) {
        boolean ready = list.equals("addresses");
        for (Object ao : subset.getJsonArray(list, new JsonArray())) {
          JsonObject a = (JsonObject) ao;
          if (a.getString("ip") == null || a.getString("ip").contains(":")) continue;
          JsonObject ep = new JsonObject().put("addresses", new JsonArray().add(a.getString("ip")))
              .put("conditions", new JsonObject().put("ready", ready).put("serving", ready).put("terminating", false));
          if (a.getString("hostname") != null) ep.put("hostname", a.getString("hostname"));
          if (a.getString("nodeName") != null) ep.put("nodeName", a.getString("nodeName"));
          if (a.getJsonObject("targetRef") != null) ep.put("targetRef", a.getJsonObject("targetRef"));
          eps.add(ep);
        }
      }
      if (!eps.isEmpty()) out.add(new JsonObject().put("endpoints", eps).put("ports", ports));
    }
    return out;
  }

  /**
   * Makes the service's slices managed by {@code manager} hold exactly {@code desired}: the owned slices
   * (by name) are updated in place pairwise, missing ones created, surplus ones deleted.
   */
  private Future<?> syncSlices(JsonObject svc, String manager, List<JsonObject> desired) {
    String ns = Meta.namespace(svc);
    List<JsonObject> owned = ownedSlices(ns, Meta.name(svc), manager);
    JsonObject labels = new JsonObject().put(SERVICE_NAME_LABEL, Meta.name(svc)).put(MANAGED_BY, manager);
    List<Future<?>> work = new ArrayList<>();
    for (int i = 0; i < Math.max(owned.size(), desired.size()); i++) {
      if (i >= desired.size()) {
        work.add(client.delete(sliceType, ns, Meta.name(owned.get(i)), null)
            .recover(ApiError.ignoring(ApiError.Reason.NotFound)));
      } else if (i >= owned.size()) {
        JsonObject slice = new JsonObject().put("metadata", new JsonObject().put("generateName", Meta.name(svc) + "-")
                .put("labels", labels).put("ownerReferences", new JsonArray().add(Workloads.ownerRef(svc))))
            .put("addressType", "IPv4").put("endpoints", desired.get(i).getJsonArray("endpoints"))
            .put("ports", desired.get(i).getJsonArray("ports"));
        work.add(client.create(sliceType, ns, slice));
      } else {
        JsonObject current = owned.get(i);
        JsonObject want = desired.get(i);
        if (!current.getJsonArray("endpoints", new JsonArray()).equals(want.getJsonArray("endpoints"))
            || !current.getJsonArray("ports", new JsonArray()).equals(want.getJsonArray("ports"))) {
          work.add(client.update(sliceType, ns, Meta.name(current), current.copy()
              .put("endpoints", want.getJsonArray("endpoints")).put("ports", want.getJsonArray("ports"))));
        }
      }
    }
    return Future.all(work);
  }
}
