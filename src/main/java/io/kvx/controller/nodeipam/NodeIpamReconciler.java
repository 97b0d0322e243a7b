package io.kvx.controller.nodeipam;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.EventRecorder;
import io.kvx.controller.Cache;
import io.kvx.controller.Reconciler;
import io.kvx.store.Store;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Node podCIDR allocation, kube-controller-manager's nodeipam range allocator: a node without
 * spec.podCIDR gets the next free block of the cluster CIDR; a node that brought its own has it marked
 * as used; a deleted node's block is freed. Each block handed out is a reservation key in the store,
 * created atomically (as {@code ServiceAllocator} does for ClusterIPs), so two controller managers in
 * two JVMs (a failover, a split) can never give one block to two nodes. The API server refuses to
 * change a podCIDR once set, so of two racing assignments to one node only the first sticks; the
 * loser frees its block.
 */
public final class NodeIpamReconciler implements Reconciler {

  private static final Logger LOG = Logger.getLogger(NodeIpamReconciler.class.getName());
  public static final String PREFIX = "kvx/podcidrs//";

  private final Cache nodes;
  private final Store store;
  private final ApiClient client;
  private final EventRecorder events;
  private final CidrSet set;
  private final String clusterCidr;
  private final Consumer<String> enqueue;
  /** Reservation key → the node holding it, as last seen in the store. */
  private final Map<String, String> held = new HashMap<>();
  /** Warnings already given ("node cidr", "node full"): said once, not on every look at the node. */
  private final Set<String> reported = new HashSet<>();
  private Future<Void> loaded;

  public NodeIpamReconciler(Cache nodes, Store store, ApiClient client, EventRecorder events, String clusterCidr,
                            int nodeMaskSize, Consumer<String> enqueue) {
    this.nodes = nodes;
    this.store = store;
    this.client = client;
    this.events = events;
    this.clusterCidr = clusterCidr;
    this.set = new CidrSet(clusterCidr, nodeMaskSize);
    this.enqueue = enqueue;
    // Heartbeats and status changes do not matter here: only arrivals, departures and podCIDR changes.
    nodes.listen(c -> {
      if (c.old() == null || c.current() == null || !podCidrs(c.old()).equals(podCidrs(c.current()))) {
        enqueue.accept(Meta.name(c.object()));
      }
    });
  }

  @Override
  public String name() {
    return "nodeipam";
  }

  static String key(String cidr) {
    return PREFIX + cidr.replace('/', '-');
  }

  static String cidrOf(String key) {
    String s = key.substring(PREFIX.length());
    int dash = s.lastIndexOf('-');
    return s.substring(0, dash) + "/" + s.substring(dash + 1);
  }

  /**
   * Once per leadership: what the store holds. Blocks of nodes that no longer exist (deleted while no
   * controller manager ran) are looked at again, which frees them.
   */
  private Future<Void> load() {
    if (loaded == null) {
      loaded = store.list(PREFIX, o -> true, 0, null).map(list -> {
        for (JsonObject rec : list.items()) {
          String cidr = rec.getString("cidr");
          String owner = rec.getString("owner");
          if (cidr == null || owner == null) continue;
          held.put(key(cidr), owner);
          int i = set.indexOf(cidr);
          if (i >= 0) set.occupy(i);
          if (nodes.get(owner) == null) enqueue.accept(owner);
        }
        return (Void) null;
      }).onFailure(e -> loaded = null);
    }
    return loaded;
  }

  @Override
  public Future<Result> reconcile(String name) {
    return load().compose(v -> {
      JsonObject node = nodes.get(name);
      if (node == null) return release(name).map(Result.DONE);
      List<String> cidrs = podCidrs(node);
      if (!cidrs.isEmpty()) return occupy(node, cidrs.get(0)).map(Result.DONE);
      return allocate(node);
    });
  }

  static List<String> podCidrs(JsonObject node) {
    JsonObject spec = node.getJsonObject("spec", new JsonObject());
    List<String> out = new ArrayList<>();
    for (Object o : spec.getJsonArray("podCIDRs", new JsonArray())) {
      if (o instanceof String s && !s.isEmpty()) out.add(s);
    }
    String single = spec.getString("podCIDR");
    if (out.isEmpty() && single != null && !single.isEmpty()) out.add(single);
    return out;
  }

  /** A node brought its own podCIDR (or got one earlier): hold its block so nobody else gets it. */
  private Future<Void> occupy(JsonObject node, String cidr) {
    String name = Meta.name(node);
    int i = set.indexOf(cidr);
    if (i < 0) {
      if (set.overlaps(cidr) && reported.add(name + " " + cidr)) {
        LOG.warning("nodeipam: node " + name + " has podCIDR " + cidr + ", which is not a /" + set.maskSize()
            + " block of " + clusterCidr + "; not tracked");
      }
      return Future.succeededFuture();
    }
    String key = key(cidr);
    String owner = held.get(key);
    if (name.equals(owner)) return Future.succeededFuture();
    if (owner != null && nodes.get(owner) != null && podCidrs(nodes.get(owner)).contains(cidr)) {
      if (!reported.add(name + " " + cidr)) return Future.succeededFuture();
      events.warning(node, "CIDRNotAvailable", "Node " + name + " has podCIDR " + cidr + ", which node " + owner
          + " holds already");
      return Future.succeededFuture();
    }
    set.occupy(i);
    return reserve(key, cidr, name).compose(won -> {
      if (!won && reported.add(name + " " + cidr)) {
        events.warning(node, "CIDRNotAvailable", "Node " + name + " has podCIDR " + cidr + ", which node "
            + held.get(key) + " holds already");
      }
      return Future.<Void>succeededFuture();
    });
  }

  private Future<Result> allocate(JsonObject node) {
    String name = Meta.name(node);
    // A block reserved for this node by an earlier attempt (whose write to the node failed) is reused.
    for (Map.Entry<String, String> e : held.entrySet()) {
      if (name.equals(e.getValue())) return assign(node, cidrOf(e.getKey()));
    }
    return pick(name, set.size()).compose(cidr -> {
      if (cidr == null) {
        // Tried again when a node's deletion frees a block; said once per node, not on every retry.
        if (!reported.add(name + " full")) return Future.succeededFuture(Result.DONE);
        events.warning(node, "CIDRNotAvailable", "Node " + name + " status is now: CIDRNotAvailable (no free /"
            + set.maskSize() + " block left in " + clusterCidr + ")");
        return Future.succeededFuture(Result.DONE);
      }
      return assign(node, cidr);
    });
  }

  /** Reserves the next free block for {@code name}; null when the range is full. */
  private Future<String> pick(String name, int attemptsLeft) {
    OptionalInt next = set.next();
    if (next.isEmpty() || attemptsLeft <= 0) return Future.succeededFuture(null);
    int i = next.getAsInt();
    String cidr = set.cidr(i);
    set.occupy(i);
    return reserve(key(cidr), cidr, name).compose(won -> won ? Future.succeededFuture(cidr)
        : pick(name, attemptsLeft - 1));
  }

  /** True if {@code name} holds the key now (created, or held by it already). */
  private Future<Boolean> reserve(String key, String cidr, String name) {
    JsonObject rec = new JsonObject().put("metadata", new JsonObject().put("name", cidr.replace('/', '-')))
        .put("cidr", cidr).put("owner", name);
    return store.create(key, rec).map(o -> {
      held.put(key, name);
      return true;
    }).recover(e -> {
      if (!ApiError.is(e, ApiError.Reason.AlreadyExists)) return Future.failedFuture(e);
      return store.get(key).map(existing -> {
        String owner = existing.getString("owner");
        held.put(key, owner);
        return name.equals(owner);
      });
    });
  }

  private Future<Result> assign(JsonObject node, String cidr) {
    String name = Meta.name(node);
    JsonObject patch = new JsonObject().put("spec", new JsonObject().put("podCIDR", cidr)
        .put("podCIDRs", new JsonArray().add(cidr)));
    return client.mergePatch(Resources.NODES, null, name, null, patch).map(n -> {
      reported.remove(name + " full");
      LOG.info("nodeipam: node " + name + " gets podCIDR " + cidr);
      return Result.DONE;
    }).recover(e -> {
      if (ApiError.is(e, ApiError.Reason.NotFound, ApiError.Reason.Invalid)) {
        // Gone, or another allocator set its podCIDR first: this block is not needed.
        return unreserve(key(cidr)).map(Result.DONE);
      }
      events.warning(node, "CIDRAssignmentFailed", "Node " + name + " status is now: CIDRAssignmentFailed ("
          + e.getMessage() + ")");
      return Future.failedFuture(e);
    });
  }

  /** Frees every block the store says {@code name} holds (the node was deleted). */
  private Future<Void> release(String name) {
    reported.removeIf(k -> k.startsWith(name + " "));
    return store.list(PREFIX, o -> name.equals(o.getString("owner")), 0, null).compose(list -> {
      List<Future<?>> deletes = new ArrayList<>();
      for (JsonObject rec : list.items()) {
        String cidr = rec.getString("cidr");
        if (cidr == null) continue;
        deletes.add(unreserve(key(cidr)).onSuccess(v -> LOG.info("nodeipam: released podCIDR " + cidr
            + " of deleted node " + name)));
      }
      return Future.all(deletes).<Void>mapEmpty().onSuccess(v -> {
        // A freed block may be what a waiting node needs.
        if (deletes.isEmpty()) return;
        for (JsonObject n : nodes.all()) {
          if (podCidrs(n).isEmpty()) enqueue.accept(Meta.name(n));
        }
      });
    });
  }

  private Future<Void> unreserve(String key) {
    return store.delete(key, 0, null).<Void>mapEmpty().recover(ApiError.ignoring(ApiError.Reason.NotFound))
        .onSuccess(v -> {
          held.remove(key);
          int i = set.indexOf(cidrOf(key));
          if (i >= 0) set.release(i);
        });
  }
}
