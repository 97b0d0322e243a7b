package io.kvx.proxy;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * kube-proxy's loop, independent of where objects come from: service and endpoints changes go into
 * the trackers and ask for a sync; the {@link SyncRunner} coalesces them; each sync folds the changes
 * into a snapshot on this context and lets the mode program it on a worker. A failed sync makes the
 * next one full and retries after a second. Call everything on the context that called
 * {@link #start()}.
 */
public final class Proxier {

  private static final Logger LOG = Logger.getLogger(Proxier.class.getName());
  private static final long RETRY_MILLIS = 1000;

  private record Waiter(long generation, Promise<Void> promise) {
  }

  private final Vertx vertx;
  private final ProxyOptions options;
  private final ProxyMode mode;
  private final ChangeTracker<ServicePort> services = ChangeTracker.services();
  private final ChangeTracker<List<Endpoint>> endpoints = ChangeTracker.endpoints();
  private final EndpointSliceCache slices = new EndpointSliceCache();
  private final Timer syncDuration;
  private final Timer programmingDuration;
  private final List<Waiter> waiters = new ArrayList<>();
  private SyncRunner runner;
  private boolean needFull = true;
  private long generation;
  private long syncedGeneration = -1;
  private long periodic = -1;
  private boolean started;
  private ProxySnapshot previous = ProxySnapshot.empty();

  public Proxier(Vertx vertx, ProxyOptions options, ProxyMode mode, MeterRegistry meters) {
    this.vertx = vertx;
    this.options = options;
    this.mode = mode;
    this.syncDuration = Timer.builder("kubeproxy_sync_proxy_rules_duration_seconds")
        .description("How long one sync of the proxy rules took").tag("mode", mode.name())
        .publishPercentileHistogram().register(meters);
    this.programmingDuration = Timer.builder("kubeproxy_network_programming_duration_seconds")
        .description("From a service or endpoints change reaching the proxy to its rules being programmed")
        .tag("mode", mode.name()).publishPercentileHistogram().register(meters);
  }

  public ProxyMode mode() {
    return mode;
  }

  /** Sets the mode up (removing leftovers) and runs the first, full sync. */
  public Future<Void> start() {
    runner = new SyncRunner(options.minSyncMillis, System::nanoTime, (ms, a) -> vertx.setTimer(ms, t -> a.run()),
        this::sync);
    return vertx.executeBlocking(() -> {
      mode.start();
      return null;
    }).map(v -> {
      started = true;
      if (options.fullSyncSeconds > 0) {
        periodic = vertx.setPeriodic(TimeUnit.SECONDS.toMillis(options.fullSyncSeconds), t -> {
          needFull = true;
          runner.request();
        });
      }
      runner.request();
      return null;
    });
  }

  /** A service's new state; null when it was deleted. */
  public void onService(String key, JsonObject service) {
    if (services.update(key, service, System.nanoTime())) changed();
  }

  /** An Endpoints object's new state; null when it was deleted (tests; the verticle reads slices). */
  public void onEndpoints(String key, JsonObject eps) {
    if (endpoints.update(key, eps, System.nanoTime())) changed();
  }

  /** An EndpointSlice's new state; null when it was deleted. {@code key} is the slice's namespace/name. */
  public void onEndpointSlice(String key, JsonObject slice) {
    long now = System.nanoTime();
    boolean any = false;
    for (var e : slices.update(key, slice).entrySet()) any |= endpoints.updateTo(e.getKey(), e.getValue(), now);
    if (any) changed();
  }

  /** Completes once every change given so far has been programmed. */
  public Future<Void> synced() {
    Promise<Void> p = Promise.promise();
    if (syncedGeneration >= generation) p.complete();
    else waiters.add(new Waiter(generation, p));
    return p.future();
  }

  private void changed() {
    generation++;
    if (started) runner.request();
  }

  private void sync(Runnable done) {
    long oldest = Math.min(services.oldestPendingNanos(), endpoints.oldestPendingNanos());
    Set<String> changed = new TreeSet<>(services.apply());
    changed.addAll(endpoints.apply());
    boolean full = needFull;
    needFull = false;
    long gen = generation;
    if (!full && changed.isEmpty()) {
      synced(gen);
      done.run();
      return;
    }
    ProxySnapshot snapshot = ProxySnapshot.of(services.state(), endpoints.state());
    ProxySnapshot before = previous;
    long t0 = System.nanoTime();
    vertx.executeBlocking(() -> {
      mode.sync(snapshot, changed, full);
      long programmed = System.nanoTime();
      // (not after the first sync: there is nothing this process programmed before)
      if (mode.natConntrack() && !before.keys().isEmpty()) {
        StaleUdp.clear(StaleUdp.between(before, snapshot, full ? union(before, snapshot) : changed));
      }
      return programmed;
    }).onComplete(ar -> {
      if (ar.succeeded()) {
        long end = ar.result();
        previous = snapshot;
        syncDuration.record(end - t0, TimeUnit.NANOSECONDS);
        if (oldest != Long.MAX_VALUE) programmingDuration.record(end - oldest, TimeUnit.NANOSECONDS);
        if (full) {
          LOG.info("proxy: full sync of " + snapshot.keys().size() + " services in "
              + TimeUnit.NANOSECONDS.toMillis(end - t0) + " ms (" + mode.name() + ")");
        } else {
          LOG.fine(() -> "proxy: synced " + changed + " in " + TimeUnit.NANOSECONDS.toMillis(end - t0) + " ms");
        }
        synced(gen);
      } else {
        LOG.warning("proxy: sync of " + (full ? "all services" : changed) + " failed, full resync in "
            + RETRY_MILLIS + " ms: " + ar.cause().getMessage());
        needFull = true;
        vertx.setTimer(RETRY_MILLIS, t -> runner.request());
      }
      done.run();
    });
  }

  private static Set<String> union(ProxySnapshot a, ProxySnapshot b) {
    Set<String> all = new TreeSet<>(a.keys());
    all.addAll(b.keys());
    return all;
  }

  private void synced(long gen) {
    syncedGeneration = Math.max(syncedGeneration, gen);
    waiters.removeIf(w -> {
      if (w.generation() > syncedGeneration) return false;
      w.promise().complete();
      return true;
    });
  }

  /** Stops syncing and removes everything the mode programmed. */
  public Future<Void> stop() {
    if (runner != null) runner.stop();
    if (periodic >= 0) vertx.cancelTimer(periodic);
    started = false;
    return vertx.executeBlocking(() -> {
      mode.stop();
      return null;
    });
  }
}
