package io.kvx.boot;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.RingbufferConfig;
import io.kvx.bus.Addresses;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The Hazelcast member configuration: Vert.x's own maps, TCP-IP join on loopback by default, the
 * store's objects map and change log with synchronous backups. The cluster name carries a hash of
 * the cluster secret, so a member without the secret is refused at join.
 */
public final class ClusterConfig {

  private ClusterConfig() {
  }

  public static Config build(KvxOptions o, String roles) {
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
