package io.kvx.client;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.logging.Logger;

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: the holder
 * renews every retry period; another candidate takes the lease over once it has watched it stay
 * unchanged for a whole lease duration (its own clock only, so clock skew between JVMs does not matter).
 * Writes are compare-and-swap on resourceVersion, so two candidates can never both win.
 */
public final class LeaderElector {

  private static final Logger LOG = Logger.getLogger(LeaderElector.class.getName());

  private final Vertx vertx;
  private final ApiClient client;
  private final String namespace;
  private final String name;
  private final String identity;
  private final long leaseMs;
  private final long retryMs;
  private final Handler<Void> onStarted;
  private final Handler<Void> onStopped;
  private long timer = -1;
  private boolean leading;
  private long lastRenewed;
  private String observedVersion;
  private long observedAt;
  private boolean stopped;
  private boolean busy;

  public LeaderElector(Vertx vertx, ApiClient client, String namespace, String name, String identity, long leaseMs,
                       long retryMs, Handler<Void> onStarted, Handler<Void> onStopped) {
    this.vertx = vertx;
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.identity = identity;
    this.leaseMs = leaseMs;
    this.retryMs = retryMs;
    this.onStarted = onStarted;
    this.onStopped = onStopped;
  }

  public void start() {
    tick();
    timer = vertx.setPeriodic(retryMs, t -> tick());
  }

  public boolean isLeader() {
    return leading;
  }

  public void stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    if (leading) {
      leading = false;
      onStopped.handle(null);
      // Give the lease up so that a successor need not wait for it to expire.
      client.get(Resources.LEASES, namespace, name).onSuccess(lease -> {
        JsonObject spec = lease.getJsonObject("spec", new JsonObject());
        if (identity.equals(spec.getString("holderIdentity"))) {
          spec.put("leaseDurationSeconds", 1).put("renewTime", Meta.nowMicro()).putNull("holderIdentity");
          client.update(Resources.LEASES, namespace, name, lease);
        }
      });
    }
  }

  private void tick() {
    if (stopped || busy) return;
    busy = true;
    long now = System.currentTimeMillis();
    if (leading && now - lastRenewed > leaseMs) {
      LOG.warning("leader election " + namespace + "/" + name + ": could not renew for " + (now - lastRenewed)
          + " ms; stepping down");
      leading = false;
      onStopped.handle(null);
    }
    client.get(Resources.LEASES, namespace, name).compose(lease -> {
      JsonObject spec = lease.getJsonObject("spec", new JsonObject());
      String holder = spec.getString("holderIdentity");
      String rv = Meta.meta(lease).getString("resourceVersion");
      if (!rv.equals(observedVersion)) {
        observedVersion = rv;
        observedAt = now;
      }
      long duration = spec.getLong("leaseDurationSeconds", leaseMs / 1000) * 1000;
      boolean mine = identity.equals(holder);
      boolean expired = holder == null || holder.isEmpty() || now - observedAt > duration;
      if (!mine && !expired) return io.vertx.core.Future.succeededFuture(false);
      if (!mine) spec.put("leaseTransitions", spec.getInteger("leaseTransitions", 0) + 1)
          .put("acquireTime", Meta.nowMicro());
      spec.put("holderIdentity", identity).put("leaseDurationSeconds", leaseMs / 1000).put("renewTime", Meta.nowMicro());
      lease.put("spec", spec);
      return client.update(Resources.LEASES, namespace, name, lease).map(true);
    }).recover(e -> {
      if (!ApiError.is(e, ApiError.Reason.NotFound)) return io.vertx.core.Future.failedFuture(e);
      JsonObject lease = new JsonObject().put("metadata", new JsonObject().put("name", name))
          .put("spec", new JsonObject().put("holderIdentity", identity).put("leaseDurationSeconds", leaseMs / 1000)
              .put("acquireTime", Meta.nowMicro()).put("renewTime", Meta.nowMicro()).put("leaseTransitions", 0));
      return client.create(Resources.LEASES, namespace, lease).map(true);
    }).onComplete(ar -> {
      busy = false;
      if (stopped) return;
      if (ar.succeeded() && ar.result()) {
        lastRenewed = now;
        if (!leading) {
          leading = true;
          LOG.info("leader election " + namespace + "/" + name + ": " + identity + " is now the leader");
          onStarted.handle(null);
        }
      }
    });
  }

  /** A unique identity for this process: host name and a random suffix, as client-go suggests. */
  public static String identity(String prefix) {
    return prefix + "_" + Long.toHexString(Instant.now().toEpochMilli()) + Integer.toHexString((int) (Math.random()
        * 0xffff));
  }
}
