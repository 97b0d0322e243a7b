package io.kvx.client;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.Resources;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: the holder
 * renews every retry period; another candidate takes the lease over once it has watched it stay
 * unchanged for a whole lease duration (its own clock only, so clock skew between JVMs does not matter).
 * Writes are compare-and-swap on resourceVersion, so two candidates can never both win.
 *
 * <p>kvx addition ({@link #followMembers}): an identity carries the candidate's Hazelcast member id,
 * and when that member leaves the cluster (killed, or cut off) the others do not wait for the lease
 * to expire: they take it over at once. A departed member's JVM can no longer write through the store
 * to renew, and steps down by itself once its renewals have failed for a lease duration.
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
  /** A tick asked for while one was running: run again as soon as it completes. */
  private boolean again;
  private String observedHolder;
  /** The resourceVersion this candidate's last successful write gave the lease. */
  private String renewedVersion;
  /**
   * Hazelcast members that left the cluster (the latest few) and when, whose leases are not waited out.
   * Only for two lease durations: by then expiry would have freed the lease anyway, and a member that
   * rejoined after a split (Hazelcast gives it a new uuid, its elector keeps the old identity) must not
   * have its lease taken from it for good.
   */
  private final Map<String, Long> departed = new LinkedHashMap<>();
  private HazelcastInstance hazelcast;
  private UUID membership;

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

  /**
   * Takes the lease at once when its holder's Hazelcast member leaves the cluster. The identity must
   * have been made by {@link #identity(String, HazelcastInstance)}. Call before {@link #start()}, on
   * the context the elector runs on.
   */
  public LeaderElector followMembers(HazelcastInstance hz) {
    Context context = vertx.getOrCreateContext();
    hazelcast = hz;
    membership = hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        String member = e.getMember().getUuid().toString();
        context.runOnContext(v -> memberLeft(member));
      }
    });
    return this;
  }

  /** A cluster member left: if it holds the lease, try to take it now rather than at its expiry. */
  void memberLeft(String member) {
    departed.put(member, System.currentTimeMillis());
    while (departed.size() > 64) departed.remove(departed.keySet().iterator().next());
    if (stopped || leading || !heldByDeparted(observedHolder)) return;
    LOG.info("leader election " + namespace + "/" + name + ": the holder " + observedHolder
        + " left the cluster; taking the lease without waiting for it to expire");
    if (busy) again = true;
    else tick();
  }

  private boolean heldByDeparted(String holder) {
    if (holder == null) return false;
    long now = System.currentTimeMillis();
    for (Map.Entry<String, Long> m : departed.entrySet()) {
      if (now - m.getValue() < 2 * leaseMs && holder.contains("_" + m.getKey()) && !isMember(m.getKey())) return true;
    }
    return false;
  }

  private boolean isMember(String uuid) {
    try {
      for (var member : hazelcast.getCluster().getMembers()) {
        if (member.getUuid().toString().equals(uuid)) return true;
      }
      return false;
    } catch (RuntimeException e) {
      return true;
    }
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
    if (membership != null) {
      try {
        hazelcast.getCluster().removeMembershipListener(membership);
      } catch (RuntimeException e) {
        // Hazelcast is already shutting down.
      }
      membership = null;
    }
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
      observedHolder = holder;
      long duration = spec.getLong("leaseDurationSeconds", leaseMs / 1000) * 1000;
      boolean mine = identity.equals(holder);
      boolean expired = holder == null || holder.isEmpty() || now - observedAt > duration || heldByDeparted(holder);
      if (!mine && leading && !expired && newer(rv, renewedVersion)) {
        // Someone else took it after this candidate's last renewal (while this member was cut off from
        // the cluster, say): step down now rather than after failing to renew for a lease duration.
        LOG.warning("leader election " + namespace + "/" + name + ": " + holder + " holds the lease; stepping down");
        leading = false;
        onStopped.handle(null);
      }
      if (!mine && !expired) return io.vertx.core.Future.succeededFuture(false);
      if (!mine) spec.put("leaseTransitions", spec.getInteger("leaseTransitions", 0) + 1)
          .put("acquireTime", Meta.nowMicro());
      spec.put("holderIdentity", identity).put("leaseDurationSeconds", leaseMs / 1000).put("renewTime", Meta.nowMicro());
      lease.put("spec", spec);
      return client.update(Resources.LEASES, namespace, name, lease).map(this::renewed);
    }).recover(e -> {
      if (!ApiError.is(e, ApiError.Reason.NotFound)) return io.vertx.core.Future.failedFuture(e);
      JsonObject lease = new JsonObject().put("metadata", new JsonObject().put("name", name))
          .put("spec", new JsonObject().put("holderIdentity", identity).put("leaseDurationSeconds", leaseMs / 1000)
              .put("acquireTime", Meta.nowMicro()).put("renewTime", Meta.nowMicro()).put("leaseTransitions", 0));
      return client.create(Resources.LEASES, namespace, lease).map(this::renewed);
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
      if (again) {
        again = false;
        tick();
      }
    });
  }

  private boolean renewed(JsonObject lease) {
    renewedVersion = Meta.meta(lease).getString("resourceVersion");
    return true;
  }

  /** Whether resourceVersion {@code a} is later than {@code b} (kvx's are increasing numbers). */
  private static boolean newer(String a, String b) {
    if (a == null || b == null) return false;
    try {
      return Long.parseLong(a) > Long.parseLong(b);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /**
   * A unique identity for this process that names its Hazelcast member ({@code <prefix>_<member
   * uuid>_<random>}), so that the other candidates know whose departure frees the lease.
   */
  public static String identity(String prefix, HazelcastInstance hz) {
    return prefix + "_" + hz.getCluster().getLocalMember().getUuid() + "_"
        + Integer.toHexString((int) (Math.random() * 0xffff));
  }

  /** A unique identity for this process: host name and a random suffix, as client-go suggests. */
  public static String identity(String prefix) {
    return prefix + "_" + Long.toHexString(Instant.now().toEpochMilli()) + Integer.toHexString((int) (Math.random()
        * 0xffff));
  }
}
