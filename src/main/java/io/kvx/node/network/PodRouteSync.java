package io.kvx.node.network;

import io.kvx.api.Resources;
import io.kvx.client.ApiClient;
import io.kvx.client.Informer;
import io.kvx.node.Exec;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Keeps this node's routes to the other nodes' pod CIDRs ({@link PodCidrRoutes}) in the kernel, driven
 * by a watch of the Node objects: a change that alters the wanted routes triggers one sync (coalesced);
 * a periodic sync repairs routes removed behind its back. Only routes it added are ever removed; they
 * are remembered in a file so a restarted agent can take away what the previous run left, and all are
 * removed on {@link #stop()}. Routes go through {@code ip route} on a worker thread.
 */
public final class PodRouteSync {

  private static final Logger LOG = Logger.getLogger(PodRouteSync.class.getName());

  private final Vertx vertx;
  private final ApiClient client;
  private final String nodeName;
  private final String nodeIp;
  private final Path stateFile;
  private final long repairMillis;
  private final Map<String, JsonObject> nodes = new HashMap<>();
  private final Set<String> warned = new HashSet<>();
  private Set<PodCidrRoutes.Route> installed = new LinkedHashSet<>();
  private Set<PodCidrRoutes.Route> lastDesired;
  private Informer informer;
  private long timer = -1;
  private boolean syncing;
  private boolean dirty;
  private boolean stopped;

  public PodRouteSync(Vertx vertx, ApiClient client, String nodeName, String nodeIp, Path stateFile, long repairMillis) {
    this.vertx = vertx;
    this.client = client;
    this.nodeName = nodeName;
    this.nodeIp = nodeIp;
    this.stateFile = stateFile;
    this.repairMillis = repairMillis;
  }

  public Future<Void> start() {
    return vertx.executeBlocking(this::readState).compose(previous -> {
      installed = previous;
      return client.watch(Resources.NODES, n -> true, this::onNode);
    }).map(i -> {
      informer = i;
      timer = vertx.setPeriodic(repairMillis, t -> {
        lastDesired = null;
        sync();
      });
      sync();
      return null;
    });
  }

  private void onNode(WatchEvent ev) {
    String name = ev.object().getJsonObject("metadata", new JsonObject()).getString("name");
    if (ev.type().equals(WatchEvent.DELETED)) nodes.remove(name);
    else nodes.put(name, ev.object());
    sync();
  }

  /** One sync at a time; a request during a sync runs once more after it. */
  private void sync() {
    if (stopped) return;
    Set<PodCidrRoutes.Route> desired = PodCidrRoutes.desired(nodeName, nodeIp, nodes.values());
    if (desired.equals(lastDesired) && !dirty) return;
    if (syncing) {
      dirty = true;
      return;
    }
    syncing = true;
    dirty = false;
    lastDesired = desired;
    Set<PodCidrRoutes.Route> before = new LinkedHashSet<>(installed);
    vertx.executeBlocking(() -> apply(before, desired), false).onComplete(ar -> {
      syncing = false;
      if (ar.succeeded()) installed = ar.result();
      else LOG.warning("node " + nodeName + ": route sync failed: " + ar.cause().getMessage());
      if (dirty) sync();
    });
  }

  /** Blocking: removes stale routes, (re)places wanted ones; returns what is installed afterwards. */
  private Set<PodCidrRoutes.Route> apply(Set<PodCidrRoutes.Route> before, Set<PodCidrRoutes.Route> desired)
      throws IOException {
    Set<PodCidrRoutes.Route> now = new LinkedHashSet<>(before);
    PodCidrRoutes.Plan plan = PodCidrRoutes.plan(before, desired);
    for (PodCidrRoutes.Route r : plan.remove()) {
      delete(r);
      now.remove(r);
      LOG.info("node " + nodeName + ": removed route " + r);
    }
    // "replace" for every wanted route, new or not: it also repairs one deleted behind our back.
    for (PodCidrRoutes.Route r : desired) {
      try {
        Exec.run(List.of("ip", "route", "replace", r.cidr(), "via", r.via()));
        if (now.add(r)) LOG.info("node " + nodeName + ": added route " + r);
        warned.remove(r.toString());
      } catch (IOException e) {
        // Typically the gateway is not on a shared link (host-gw needs one): say so once.
        if (warned.add(r.toString())) {
          LOG.warning("node " + nodeName + ": cannot add route " + r + ": " + e.getMessage().trim());
        }
      }
    }
    writeState(now);
    return now;
  }

  private static void delete(PodCidrRoutes.Route r) {
    try {
      Exec.run(List.of("ip", "route", "del", r.cidr(), "via", r.via()));
    } catch (IOException e) {
      // gone already, or replaced by a route through another gateway: nothing of ours left
    }
  }

  /** Stops watching and removes every route this agent added. */
  public Future<Void> stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    if (informer != null) informer.stop();
    Set<PodCidrRoutes.Route> all = new LinkedHashSet<>(installed);
    return vertx.executeBlocking(() -> {
      for (PodCidrRoutes.Route r : all) delete(r);
      Files.deleteIfExists(stateFile);
      return null;
    });
  }

  private Set<PodCidrRoutes.Route> readState() throws IOException {
    Set<PodCidrRoutes.Route> out = new LinkedHashSet<>();
    if (!Files.exists(stateFile)) return out;
    for (Object o : new JsonArray(Files.readString(stateFile))) {
      JsonObject r = (JsonObject) o;
      out.add(new PodCidrRoutes.Route(r.getString("cidr"), r.getString("via")));
    }
    return out;
  }

  private void writeState(Set<PodCidrRoutes.Route> routes) throws IOException {
    JsonArray a = new JsonArray();
    for (PodCidrRoutes.Route r : routes) a.add(new JsonObject().put("cidr", r.cidr()).put("via", r.via()));
    Files.createDirectories(stateFile.getParent());
    Files.writeString(stateFile, a.encode());
  }
}
