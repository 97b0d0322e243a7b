package io.kvx.store.hazelcast;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.ringbuffer.OverflowPolicy;
import com.hazelcast.ringbuffer.ReadResultSet;
import com.hazelcast.ringbuffer.Ringbuffer;
import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.bus.Addresses;
import io.kvx.bus.Services;
import io.kvx.store.WatchEvent;
import io.kvx.store.durable.DurableLog;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * The store's single writer (DESIGN §2). Among the JVMs that run this verticle, the oldest Hazelcast
 * member leads; it recovers the state (IMap backups, then the change log, else the durable file),
 * then serves {@link Addresses#STORE_WRITE}: batches of writes are checked and numbered by the
 * {@link Sequencer}, written to the durable file in one transaction, appended to the change log
 * (which every watch cache follows), put into the objects map, and only then acknowledged.
 */
public final class SequencerVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(SequencerVerticle.class.getName());
  /** At most what one Ringbuffer.addAllAsync takes (Hazelcast refuses more than 1,000 items). */
  private static final int MAX_BATCH = 1000;
  private static final int RECOVERY_READ = 1000;
  private static final int MAX_PIPELINE = 3;
  private static final long MAINTENANCE_MS = 60_000;
  private static final String REVISION = "revision";

  private HazelcastInstance hz;
  private String memberId;
  private IMap<String, String> objects;
  private Ringbuffer<String> changeLog;
  private DurableLog durable;
  private LocalRecords localRecords;
  private IMap<String, Long> meta;
  private long maintenanceTimer;
  private UUID membershipRegistration;
  private MessageConsumer<JsonObject> consumer;
  private MessageConsumer<JsonObject> directConsumer;
  private final Sequencer sequencer = new Sequencer();
  private final ArrayDeque<Message<JsonObject>> queue = new ArrayDeque<>();
  /** Batches numbered and not yet acknowledged or failed. */
  private int inFlight;
  /** Completes when the newest batch in flight has been published; the next one chains onto it. */
  private Future<Void> pipelineTail = Future.succeededFuture();
  private volatile boolean leading;
  private volatile boolean electing;
  /**
   * Set when Hazelcast reports a partition lost with its backups (members died together): the map and change log
   * then hold only part of the state, and the next recovery starts from the durable log.
   */
  private volatile boolean partitionsLost;
  private UUID partitionLostRegistration;
  private long lastSequence = -1;

  @Override
  public Future<?> start() {
    hz = Services.of(vertx).hazelcast();
    io.kvx.bus.HandedOverJson.register(vertx); // the codec of the store's write requests
    memberId = hz.getCluster().getLocalMember().getUuid().toString();
    objects = hz.getMap(Addresses.OBJECTS_MAP);
    changeLog = hz.getRingbuffer(Addresses.CHANGE_LOG);
    localRecords = LocalRecords.of(hz);
    meta = hz.getMap(Addresses.STORE_META_MAP);
    Path home = Path.of(config().getString("home"));
    String datastore = config().getString("datastore", "sqlite");
    return vertx.executeBlocking(() -> DurableLog.open(datastore, home)).compose(log -> {
      durable = log;
      LOG.info("sequencer: durable log " + log.describe());
      // Ordered with the batches on the same worker queue, so it never runs inside a commit.
      maintenanceTimer = vertx.setPeriodic(MAINTENANCE_MS, t -> vertx.executeBlocking(() -> {
        durable.maintain();
        return null;
      }).onFailure(e -> LOG.warning("sequencer: durable log maintenance failed: " + e)));
      membershipRegistration = hz.getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent e) {
          context.runOnContext(v -> elect());
        }

        @Override
        public void memberRemoved(MembershipEvent e) {
          context.runOnContext(v -> elect());
        }
      });
      partitionLostRegistration = hz.getPartitionService().addPartitionLostListener(e -> {
        // 0: only the primary replica was lost (a backup took over); more: that many backups went with it too.
        if (e.getLostBackupCount() < 1 && !e.allReplicasInPartitionLost()) return;
        partitionsLost = true;
        context.runOnContext(v -> {
          if (!leading || electing) return; // a recovery under way looks at the flag when it finishes
          LOG.warning("sequencer: Hazelcast lost partition " + e.getPartitionId() + " with its backups: recovering "
              + "again from the durable log");
          releadAfterLoss();
        });
      });
      replicate();
      return elect();
    });
  }

  /** Steps down and recovers again (from the durable log: {@link #partitionsLost} is set). */
  private void releadAfterLoss() {
    leading = false;
    unregister().onComplete(v -> elect());
  }

  /**
   * While another member leads, this JVM's durable log follows the change log (through the watch
   * cache), so that whichever sequencer JVM starts first after a whole-cluster stop has the data,
   * not the file of the day it last led. Best effort and slightly behind the leader; the leader's
   * own log is the one written before the ack. Tasks run on this verticle's ordered worker queue,
   * after or before a recovery, never inside one.
   */
  private void replicate() {
    // A shared log (PostgreSQL) is written by the leader alone: a lagging follower would regress it.
    if (durable.shared() || !(Services.of(vertx).store() instanceof HazelcastStore store)) return;
    store.follow(new WatchCache.Follower() {
      @Override
      public void reset(Map<String, JsonObject> all, long revision) {
        follower(() -> durable.replaceAll(all, revision));
      }

      @Override
      public void applied(List<Sequencer.Change> changes) {
        follower(() -> durable.commit(changes));
      }
    });
  }

  private interface DurableWork {
    void run() throws Exception;
  }

  private void follower(DurableWork work) {
    context.runOnContext(v -> vertx.executeBlocking(() -> {
      if (!leading && !electing) work.run();
      return null;
    }).onFailure(e -> LOG.warning("sequencer: following the change log into the durable log failed: " + e)));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(maintenanceTimer);
    if (membershipRegistration != null) hz.getCluster().removeMembershipListener(membershipRegistration);
    if (partitionLostRegistration != null) hz.getPartitionService().removePartitionLostListener(partitionLostRegistration);
    return unregister().compose(v -> vertx.executeBlocking(() -> {
      durable.close();
      return null;
    }));
  }

  /** The leader is the oldest member (Hazelcast's member list is ordered by age) running a sequencer. */
  private Future<Void> elect() {
    if (electing) return Future.succeededFuture();
    Member leader = null;
    for (Member m : hz.getCluster().getMembers()) {
      String roles = m.getAttribute(Addresses.ROLES_ATTRIBUTE);
      if (roles != null && List.of(roles.split(",")).contains("sequencer")) {
        leader = m;
        break;
      }
    }
    boolean shouldLead = leader != null && leader.localMember();
    if (shouldLead == leading) return Future.succeededFuture();
    if (!shouldLead) {
      LOG.info("sequencer: stepping down, " + leader + " leads");
      leading = false;
      return unregister();
    }
    electing = true;
    return vertx.executeBlocking(this::recover).compose(rev -> {
      leading = true;
      pipelineTail = Future.succeededFuture(); // a failed batch of an earlier term fails nothing now
      consumer = vertx.eventBus().consumer(Addresses.STORE_WRITE, this::enqueue);
      directConsumer = vertx.eventBus().consumer(Addresses.storeWrite(memberId), this::enqueue);
      return Future.all(consumer.completion(), directConsumer.completion()).<Void>mapEmpty();
    }).onComplete(ar -> {
      electing = false;
      if (ar.succeeded() && partitionsLost) {
        LOG.warning("sequencer: Hazelcast lost partitions during the recovery: recovering again from the durable log");
        releadAfterLoss();
        return;
      }
      drain(); // writes queued while this JVM was between terms
      if (ar.succeeded()) {
        LOG.info("sequencer: leading at revision " + sequencer.revision() + " with " + sequencer.size() + " objects");
      } else {
        LOG.severe("sequencer: recovery failed: " + ar.cause());
      }
      // Membership may have changed while recovering (elect() ignored those calls); a failed
      // recovery is tried again a second later.
      vertx.setTimer(ar.succeeded() ? 1 : 1000, t -> elect());
    });
  }

  /**
   * Rebuilds the current state: IMap backups, then newer change-log records, else the durable file.
   * Then opens a new term with a marker record naming the last sequence it recovered: a watch cache
   * that applied exactly up to there saw nothing that was lost and follows on without a re-list.
   */
  private long recover() throws Exception {
    boolean lost = partitionsLost;
    partitionsLost = false; // this recovery accounts for every loss reported until now
    Map<String, JsonObject> state = new HashMap<>();
    objects.forEach((k, v) -> state.put(k, new JsonObject(v)));
    long head = changeLog.headSequence();
    long tail = changeLog.tailSequence();
    List<Sequencer.Change> logged = new ArrayList<>();
    for (long seq = head; seq <= tail; ) {
      ReadResultSet<String> rs = changeLog.readManyAsync(seq, 0, RECOVERY_READ, null).toCompletableFuture().get();
      if (rs.size() == 0) break;
      for (int i = 0; i < rs.size(); i++) {
        JsonObject r = new JsonObject(rs.get(i));
        if (!Sequencer.isMarker(r) && rs.getSequence(i) <= tail) logged.add(Sequencer.Change.fromRecord(r));
      }
      seq = rs.getNextSequenceToReadFrom();
    }
    sequencer.restore(state, 0);
    logged.forEach(sequencer::replay);
    long durableRevision = durable.lastRevision();
    // Deletes leave no object behind and old records expire: the revision is also kept on its own.
    Long kept = meta.get(REVISION);
    Map<String, String> repairs = new HashMap<>();
    if (sequencer.size() == 0 && tail < 0) {
      Map<String, JsonObject> saved = durable.loadAll();
      sequencer.restore(saved, Math.max(durableRevision, kept == null ? 0 : kept));
      saved.forEach((k, v) -> repairs.put(k, v.encode()));
    } else {
      if (lost || sequencer.revision() != durableRevision) {
        // The map and change log say another revision than this JVM's durable log: either that log lags (a
        // follower's), or Hazelcast lost partitions (members died together) and the map holds only part of the
        // state. Start from the durable log, take what the map holds that is newer, then the change log's records
        // (its deletes since): the map never shrinks the durable log.
        Map<String, JsonObject> merged = new HashMap<>(durable.loadAll());
        int fromLog = merged.size();
        sequencer.snapshot().forEach((k, v) -> merged.merge(k, v,
            (d, m) -> Meta.resourceVersion(m) > Meta.resourceVersion(d) ? m : d));
        sequencer.restore(merged, durableRevision);
        logged.forEach(sequencer::replay);
        if (lost) {
          LOG.warning("sequencer: recovered from the durable log at revision " + durableRevision + " (" + fromLog
              + " objects), the " + state.size() + " objects the map kept and the change log: " + sequencer.size()
              + " objects");
        }
      }
      Map<String, JsonObject> recovered = sequencer.snapshot();
      recovered.forEach((k, v) -> {
        if (!v.equals(state.get(k))) repairs.put(k, v.encode());
      });
      for (String k : state.keySet()) {
        if (!recovered.containsKey(k)) objects.delete(k);
      }
      sequencer.advanceTo(kept == null ? 0 : kept);
      if (durableRevision != sequencer.revision()) durable.replaceAll(sequencer.snapshot(), sequencer.revision());
      sequencer.advanceTo(durableRevision);
    }
    if (!repairs.isEmpty()) objects.putAll(repairs);
    String epoch = UUID.randomUUID().toString();
    sequencer.beginEpoch(epoch, MAX_BATCH);
    lastSequence = changeLog.addAsync(Sequencer.marker(epoch, tail, sequencer.revision()).encode(),
        OverflowPolicy.OVERWRITE).toCompletableFuture().get();
    meta.set(REVISION, sequencer.revision());
    return sequencer.revision();
  }

  private Future<Void> unregister() {
    List<Future<Void>> all = new ArrayList<>();
    if (consumer != null) all.add(consumer.unregister());
    if (directConsumer != null) all.add(directConsumer.unregister());
    consumer = null;
    directConsumer = null;
    return Future.all(all).mapEmpty();
  }

  private void enqueue(Message<JsonObject> msg) {
    // A sync needs every write acknowledged before it was sent; those are all at or below
    // lastSequence (set before their replies), so it need not wait for the batch in progress.
    if (leading && "sync".equals(msg.body().getString("op"))) {
      msg.reply(new JsonObject().put("seq", lastSequence).put("leader", memberId));
      return;
    }
    queue.add(msg);
    drain();
  }

  /**
   * Forms batches while fewer than {@link #MAX_PIPELINE} are in flight. Batches are numbered here
   * in order; their durable commits run in order on this verticle's worker queue, and each batch's
   * change-log append and map update start only after the previous batch's finished, so the next
   * batch's disk write overlaps the previous one's Hazelcast stage. A failure fails the batches
   * behind it too (they were checked against its state) and this JVM steps down.
   */
  private void drain() {
    while (leading && !queue.isEmpty() && inFlight < MAX_PIPELINE) batch();
  }

  private void batch() {
    List<Message<JsonObject>> accepted = new ArrayList<>();
    List<Sequencer.Change> changes = new ArrayList<>();
    String now = Meta.now();
    while (!queue.isEmpty() && changes.size() < MAX_BATCH) {
      Message<JsonObject> msg = queue.poll();
      JsonObject req = msg.body();
      try {
        Sequencer.Change c = switch (req.getString("op")) {
          case "create" -> sequencer.create(req.getString("key"), req.getJsonObject("object"), now);
          case "update" -> sequencer.update(req.getString("key"), req.getJsonObject("object"), req.getLong("expect", 0L));
          case "delete" -> sequencer.delete(req.getString("key"), req.getLong("expect", 0L), req.getString("uid"));
          case "sync" -> null;
          default -> throw ApiError.badRequest("unknown store operation " + req.getString("op"));
        };
        if (c == null) {
          // Queued while electing: every acknowledged write is at or below lastSequence.
          msg.reply(new JsonObject().put("seq", lastSequence).put("leader", memberId));
        } else {
          accepted.add(msg);
          changes.add(c);
        }
      } catch (ApiError e) {
        msg.fail(e.code(), e.toStatus().encode());
      } catch (RuntimeException e) {
        // A request the sequencer cannot read (the Sequencer checks and copies before it changes any state):
        // that request fails, the rest of the batch goes on.
        LOG.warning("sequencer: refused a malformed " + req.getString("op") + " request: " + e);
        msg.fail(500, new ApiError(ApiError.Reason.InternalError, "Internal error occurred: " + e).toStatus()
            .encode());
      }
    }
    if (changes.isEmpty()) return;
    inFlight++;
    Future<Void> durableWrite = vertx.executeBlocking(() -> {
      durable.commit(changes);
      return null;
    });
    Future<Void> done = pipelineTail.compose(v -> durableWrite).compose(v -> publish(changes));
    pipelineTail = done;
    done.onComplete(ar -> {
      inFlight--;
      if (ar.succeeded()) {
        // Handed over, not deep-copied on a local delivery: what the store hands out is read-only (Store), and
        // the sequencer never changes an object after commit.
        DeliveryOptions handedOver = new DeliveryOptions().setCodecName(io.kvx.bus.HandedOverJson.NAME);
        for (int i = 0; i < accepted.size(); i++) {
          accepted.get(i).reply(new JsonObject().put("object", changes.get(i).object()).put("seq", lastSequence)
              .put("leader", memberId), handedOver);
        }
      } else {
        String status = new ApiError(ApiError.Reason.ServiceUnavailable, "storage write failed: " + ar.cause())
            .toStatus().encode();
        accepted.forEach(m -> m.fail(503, status));
        if (leading) {
          LOG.severe("sequencer: write failed, re-electing: " + ar.cause());
          leading = false;
          unregister().onComplete(v -> elect());
        }
      }
      drain();
    });
  }

  /** After the durable commit: change log, then objects map; an acknowledged write is in all three. */
  private Future<Void> publish(List<Sequencer.Change> changes) {
    return Future.<Void>succeededFuture().compose(v -> {
      List<String> records = new ArrayList<>(changes.size());
      long now = System.currentTimeMillis();
      // This member writes the change log alone while it leads, so the records land right after lastSequence;
      // this JVM's watch cache takes the changes from here instead of parsing them (LocalRecords checks the text).
      for (int i = 0; i < changes.size(); i++) {
        String prefix = changes.get(i).recordPrefix(now);
        records.add(prefix + changes.get(i).encoded() + "}");
        localRecords.offer(lastSequence + 1 + i, prefix, changes.get(i), now);
        // The API server's answer and watch events send the text the logs got, not a second encoding (this JVM).
        io.kvx.api.EncodedJson.remember(changes.get(i).object(), changes.get(i).encoded());
      }
      return Future.fromCompletionStage(changeLog.addAllAsync(records, OverflowPolicy.OVERWRITE), context);
    }).compose(seq -> {
      lastSequence = seq;
      // Only the last change of a key in a batch matters to the map.
      Map<String, Sequencer.Change> last = new HashMap<>();
      changes.forEach(c -> last.put(c.key(), c));
      Map<String, String> puts = new HashMap<>();
      List<Future<?>> removals = new ArrayList<>();
      for (Sequencer.Change c : last.values()) {
        if (c.type().equals(WatchEvent.DELETED)) {
          removals.add(Future.fromCompletionStage(objects.removeAsync(c.key()), context));
        } else {
          puts.put(c.key(), c.encoded());
        }
      }
      removals.add(Future.fromCompletionStage(objects.putAllAsync(puts), context));
      // The revision kept apart from the objects is needed only when a delete leaves no object carrying it:
      // after a batch of creates and updates the map's newest resourceVersion is the batch's last revision.
      if (changes.stream().anyMatch(c -> c.type().equals(WatchEvent.DELETED))) {
        removals.add(Future.fromCompletionStage(meta.setAsync(REVISION, changes.getLast().revision()), context));
      }
      return Future.all(removals).mapEmpty();
    });
  }
}
