package io.kvx.boot;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.RingbufferConfig;
import io.kvx.bus.Addresses;
import com.hazelcast.internal.util.ConcurrencyUtil;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Hazelcast member configuration: Vert.x's own maps, TCP-IP join on loopback by default, the
 * store's objects map and change log with synchronous backups. The cluster name carries a hash of
 * the cluster secret, so a member without the secret is refused at join.
 */
public final class ClusterConfig {

  private ClusterConfig() {
  }

  private static final AtomicBoolean ASYNC_POOL = new AtomicBoolean();

  /**
   * Hazelcast runs its futures' completion callbacks (every async map and ringbuffer operation's, and the ones
   * chained inside putAll) on ForkJoinPool's common pool, unless that pool has one worker, as on a 2-core
   * machine: then it starts a new thread for every callback, two to three per store write (JFR: 147,000 thread
   * starts in a 65,000-write bench). The same without the thread starts: a cached pool, which like a thread per
   * callback never queues a callback behind another (one that blocks holds up nothing), but reuses idle threads.
   */
  static void asyncCallbacksOnAPool() {
    if (!ASYNC_POOL.compareAndSet(false, true)) return;
    AtomicInteger n = new AtomicInteger();
    ConcurrencyUtil.setDefaultAsyncExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "kvx-hz-async-" + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    }));
  }

  public static Config build(KvxOptions o, String roles) {
    asyncCallbacksOnAPool();
    Config cfg = ConfigUtil.loadConfig();
    cfg.setClusterName(clusterName(o.clusterName, o.secret));
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.wait.seconds.before.join", "0");
    cfg.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    cfg.setProperty("hazelcast.shutdownhook.enabled", "false");
    cfg.setProperty("hazelcast.logging.type", "jdk");
    cfg.setProperty("hazelcast.socket.bind.any", "false");
    // Failure detection fast enough that a killed JVM is noticed in seconds, not a minute.
    cfg.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    cfg.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    cfg.getMemberAttributeConfig().setAttribute(Addresses.ROLES_ATTRIBUTE, roles);
    // Vert.x finds its node id here when it is handed a ready-made Hazelcast instance.
    cfg.getMemberAttributeConfig().setAttribute("__vertx.nodeId", UUID.randomUUID().toString());
    NetworkConfig net = cfg.getNetworkConfig();
    net.setPort(o.clusterPort).setPortAutoIncrement(true);
    net.getInterfaces().setEnabled(true).addInterface(o.bindHost);
    // Behind NAT, or bound to an address others cannot reach: what the other members should dial.
    if (o.advertiseAddress != null) net.setPublicAddress(o.advertiseAddress);
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).addMember(o.join != null ? o.join : o.bindHost);
    cfg.addMapConfig(new MapConfig(Addresses.OBJECTS_MAP).setBackupCount(1).setAsyncBackupCount(0));
    cfg.addRingBufferConfig(new RingbufferConfig(Addresses.CHANGE_LOG).setCapacity(o.changeLogCapacity())
        .setTimeToLiveSeconds((int) Math.max(1, o.historyAge.toSeconds())).setBackupCount(1).setAsyncBackupCount(0));
    cfg.addMapConfig(new MapConfig(Addresses.STORE_META_MAP).setBackupCount(1).setAsyncBackupCount(0));
    cfg.addMapConfig(new MapConfig("kvx.bootstrap").setBackupCount(1));
    return cfg;
  }

  static String clusterName(String name, String secret) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest((name + "\0" + secret).getBytes(StandardCharsets.UTF_8));
      return name + "-" + HexFormat.of().formatHex(digest, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
