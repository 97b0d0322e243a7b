package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Ipv4;
import io.kvx.api.Meta;
import io.kvx.store.Store;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * ClusterIP and NodePort allocation, as kube-apiserver's service registry does it. Each address or
 * port taken is a reservation key in the store, created atomically, so two API servers in two JVMs
 * can never hand out the same one; user-chosen values are honored when free and refused when taken.
 */
public final class ServiceAllocator {

  public static final String IP_PREFIX = "kvx/serviceips//";
  public static final String PORT_PREFIX = "kvx/nodeports//";
  public static final int NODE_PORT_MIN = 30000;
  public static final int NODE_PORT_MAX = 32767;
  private static final int ATTEMPTS = 64;

  private final Store store;
  private final int base;
  private final int size;
  private final SecureRandom random = new SecureRandom();
  private final String cidr;

  public ServiceAllocator(Store store, String serviceCidr) {
    this.store = store;
    this.cidr = serviceCidr;
    String[] parts = serviceCidr.split("/");
    base = Ipv4.toInt(parts[0]);
    size = 1 << (32 - Integer.parseInt(parts[1]));
  }

  /** The first address of the range, which the "kubernetes" service gets. */
  public String firstAddress() {
    return Ipv4.toIp(base + 1);
  }

  /** Allocates what a new service needs (in place); on failure nothing stays reserved. */
  public Future<JsonObject> allocate(JsonObject svc) {
    List<String> taken = new ArrayList<>();
    return allocateInto(svc, null, taken).recover(e -> release(taken).transform(v -> Future.failedFuture(e)));
  }

  /** On update: carries the old addresses and ports forward, allocates what a type change adds. */
  public Future<JsonObject> reallocate(JsonObject old, JsonObject next) {
    JsonObject oldSpec = old.getJsonObject("spec", new JsonObject());
    JsonObject spec = next.getJsonObject("spec", new JsonObject());
    String oldIp = oldSpec.getString("clusterIP");
    String ip = spec.getString("clusterIP");
    if ((ip == null || ip.isEmpty()) && oldIp != null && !"ExternalName".equals(spec.getString("type"))) {
      spec.put("clusterIP", oldIp);
      spec.put("clusterIPs", oldSpec.getJsonArray("clusterIPs", new JsonArray().add(oldIp)));
    } else if (oldIp != null && ip != null && !ip.equals(oldIp) && !"ExternalName".equals(oldSpec.getString("type"))) {
      return Future.failedFuture(ApiError.invalid("", "Service", Meta.name(old), List.of(new ApiError.Cause(
          "spec.clusterIPs[0]", "FieldValueInvalid", "Invalid value: []string{\"" + ip + "\"}: may not change once set"))));
    }
    JsonArray oldPorts = oldSpec.getJsonArray("ports", new JsonArray());
    JsonArray ports = spec.getJsonArray("ports", new JsonArray());
    for (int i = 0; i < ports.size(); i++) {
      JsonObject p = ports.getJsonObject(i);
      if (p.getValue("nodePort") != null && p.getInteger("nodePort") != 0) continue;
      for (int j = 0; j < oldPorts.size(); j++) {
        JsonObject o = oldPorts.getJsonObject(j);
        if (o.getInteger("nodePort") != null && o.getValue("port").equals(p.getValue("port"))
            && o.getString("protocol", "TCP").equals(p.getString("protocol", "TCP")) && needsNodePorts(spec)) {
          p.put("nodePort", o.getInteger("nodePort"));
        }
      }
    }
    List<String> taken = new ArrayList<>();
    return allocateInto(next, old, taken).recover(e -> release(taken).transform(v -> Future.failedFuture(e)));
  }

  /** Frees what a deleted service held. */
  public Future<Void> releaseAll(JsonObject svc) {
    if (Meta.name(svc) != null && Meta.name(svc).equals("kubernetes") && "default".equals(Meta.namespace(svc))) {
      return Future.succeededFuture();
    }
    return release(heldKeys(svc));
  }

  private Future<JsonObject> allocateInto(JsonObject svc, JsonObject old, List<String> taken) {
    JsonObject spec = svc.getJsonObject("spec");
    String owner = Meta.namespace(svc) + "/" + Meta.name(svc);
    String type = spec.getString("type", "ClusterIP");
    Future<Void> chain = Future.succeededFuture();
    String oldIp = old == null ? null : old.getJsonObject("spec", new JsonObject()).getString("clusterIP");
    if (type.equals("ExternalName")) {
      spec.remove("clusterIP");
      spec.remove("clusterIPs");
    } else {
      String ip = spec.getString("clusterIP");
      if (ip == null || ip.isEmpty()) {
        chain = chain.compose(v -> randomIp(owner, taken, 0).map(a -> {
          spec.put("clusterIP", a).put("clusterIPs", new JsonArray().add(a));
          return null;
        }));
      } else if (!ip.equals("None") && !ip.equals(oldIp)) {
        if (!inRange(ip)) {
          return Future.failedFuture(ApiError.invalid("", "Service", Meta.name(svc), List.of(new ApiError.Cause(
              "spec.clusterIPs", "FieldValueInvalid", "Invalid value: []string{\"" + ip + "\"}: failed to allocate "
              + "IP " + ip + ": the provided IP (" + ip + ") is not in the valid range. The range of valid IPs is "
              + cidr))));
        }
        chain = chain.compose(v -> reserve(IP_PREFIX + ip, owner, taken).recover(e -> Future.failedFuture(
            ApiError.is(e, ApiError.Reason.AlreadyExists) ? ApiError.invalid("", "Service", Meta.name(svc),
                List.of(new ApiError.Cause("spec.clusterIPs", "FieldValueInvalid", "Invalid value: []string{\""
                    + ip + "\"}: failed to allocate IP " + ip + ": provided IP is already allocated"))) : e)));
        spec.put("clusterIPs", new JsonArray().add(ip));
      } else if (ip.equals("None")) {
        spec.put("clusterIPs", new JsonArray().add("None"));
      }
    }
    JsonArray ports = spec.getJsonArray("ports", new JsonArray());
    List<String> oldPortKeys = new ArrayList<>();
    if (old != null) {
      for (Object o : old.getJsonObject("spec", new JsonObject()).getJsonArray("ports", new JsonArray())) {
        if (o instanceof JsonObject p && p.getInteger("nodePort") != null) {
          oldPortKeys.add(p.getString("protocol", "TCP") + "-" + p.getInteger("nodePort"));
        }
      }
    }
    for (int i = 0; i < ports.size(); i++) {
      JsonObject port = ports.getJsonObject(i);
      String proto = port.getString("protocol", "TCP");
      Integer np = port.getValue("nodePort") instanceof Number n && n.intValue() != 0 ? n.intValue() : null;
      if (!needsNodePorts(spec)) {
        port.remove("nodePort");
        continue;
      }
      int index = i;
      if (np == null) {
        chain = chain.compose(v -> randomPort(proto, owner, taken, 0).map(p -> {
          port.put("nodePort", p);
          return null;
        }));
      } else if (!oldPortKeys.contains(proto + "-" + np)) {
        chain = chain.compose(v -> reserve(PORT_PREFIX + proto + "-" + np, owner, taken).recover(e -> Future
            .failedFuture(ApiError.is(e, ApiError.Reason.AlreadyExists) ? ApiError.invalid("", "Service",
                Meta.name(svc), List.of(new ApiError.Cause("spec.ports[" + index + "].nodePort", "FieldValueInvalid",
                    "Invalid value: " + np + ": provided port is already allocated"))) : e)));
      }
    }
    return chain.map(v -> svc);
  }

  private static boolean needsNodePorts(JsonObject spec) {
    String type = spec.getString("type", "ClusterIP");
    return type.equals("NodePort") || type.equals("LoadBalancer");
  }

  private Future<String> randomIp(String owner, List<String> taken, int attempt) {
    if (attempt >= ATTEMPTS) {
      return Future.failedFuture(new ApiError(ApiError.Reason.InternalError, "failed to allocate a serviceIP: range "
          + "is full"));
    }
    // Offsets 0 (network) and 1 (the kubernetes service) and the broadcast address are never handed out.
    String ip = Ipv4.toIp(base + 2 + random.nextInt(size - 3));
    return reserve(IP_PREFIX + ip, owner, taken).map(ip).recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists)
        ? randomIp(owner, taken, attempt + 1) : Future.failedFuture(e));
  }

  private Future<Integer> randomPort(String proto, String owner, List<String> taken, int attempt) {
    if (attempt >= ATTEMPTS) {
      return Future.failedFuture(new ApiError(ApiError.Reason.InternalError, "failed to allocate a nodePort: range "
          + "is full"));
    }
    int port = NODE_PORT_MIN + random.nextInt(NODE_PORT_MAX - NODE_PORT_MIN + 1);
    return reserve(PORT_PREFIX + proto + "-" + port, owner, taken).map(port)
        .recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists) ? randomPort(proto, owner, taken, attempt + 1)
            : Future.failedFuture(e));
  }

  /** Reserves the service CIDR's first address for the kubernetes service; already held is fine. */
  public Future<Void> reserveFirst() {
    return reserve(IP_PREFIX + firstAddress(), "default/kubernetes", new ArrayList<>()).<Void>mapEmpty()
        .recover(e -> ApiError.is(e, ApiError.Reason.AlreadyExists) ? Future.succeededFuture()
            : Future.failedFuture(e));
  }

  private Future<Void> reserve(String key, String owner, List<String> taken) {
    JsonObject rec = new JsonObject().put("metadata", new JsonObject().put("name", StoreName.of(key)))
        .put("owner", owner);
    return store.create(key, rec).map(o -> {
      taken.add(key);
      return (Void) null;
    }).recover(e -> {
      if (!ApiError.is(e, ApiError.Reason.AlreadyExists)) return Future.failedFuture(e);
      // Held by this same service already (a retried update): still ours.
      return store.get(key).compose(held -> owner.equals(held.getString("owner")) ? Future.<Void>succeededFuture()
          : Future.<Void>failedFuture(e));
    });
  }

  /** After an update: frees what the old service held and the new one no longer does. */
  public Future<Void> releaseDropped(JsonObject old, JsonObject next) {
    List<String> before = heldKeys(old);
    before.removeAll(heldKeys(next));
    return release(before);
  }

  private static List<String> heldKeys(JsonObject svc) {
    JsonObject spec = svc.getJsonObject("spec", new JsonObject());
    List<String> keys = new ArrayList<>();
    String ip = spec.getString("clusterIP");
    if (ip != null && !ip.isEmpty() && !ip.equals("None")) keys.add(IP_PREFIX + ip);
    for (Object o : spec.getJsonArray("ports", new JsonArray())) {
      if (o instanceof JsonObject p && p.getInteger("nodePort") != null) {
        keys.add(PORT_PREFIX + p.getString("protocol", "TCP") + "-" + p.getInteger("nodePort"));
      }
    }
    return keys;
  }

  private Future<Void> release(List<String> keys) {
    Future<Void> chain = Future.succeededFuture();
    for (String k : keys) {
      chain = chain.compose(v -> store.delete(k, 0, null).<Void>mapEmpty().recover(e -> Future.succeededFuture()));
    }
    return chain;
  }

  private boolean inRange(String ip) {
    try {
      int v = Ipv4.toInt(ip);
      return Integer.compareUnsigned(v - base, 0) > 0 && Integer.compareUnsigned(v - base, size - 1) < 0;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Reservation records need a name for the store's bookkeeping: the key's last segment. */
  private static final class StoreName {
    static String of(String key) {
      return key.substring(key.lastIndexOf('/') + 1);
    }
  }
}
