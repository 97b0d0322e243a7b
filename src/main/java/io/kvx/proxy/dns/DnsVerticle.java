package io.kvx.proxy.dns;

import io.kvx.api.Resources;
import io.kvx.bus.Services;
import io.kvx.client.ApiClient;
import io.kvx.client.Informer;
import io.kvx.store.WatchEvent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * Cluster DNS on each node (UDP): names in the cluster zone are answered from Services and Endpoints
 * ({@link ClusterDns}); other names are forwarded to the host's resolver. Pods reach it on their
 * node's pod-network gateway, which the node agent writes into their resolv.conf. Messages are
 * decoded and encoded with Netty's DNS codec.
 */
public final class DnsVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(DnsVerticle.class.getName());
  private static final long TTL = 5;

  private ClusterDns dns;
  private DatagramSocket socket;
  private Informer services;
  private Informer endpoints;
  private String upstream;

  @Override
  public Future<?> start() {
    JsonObject cfg = config();
    dns = new ClusterDns(cfg.getString("clusterDomain", "cluster.local"));
    ApiClient client = new ApiClient(vertx, Services.of(vertx).store());
    int port = cfg.getInteger("dnsPort", 53);
    String host = cfg.getString("dnsHost", "0.0.0.0");
    // Forwarding is opt-in ("upstream": an address, or "auto" for the host's resolver): kvx sends no
    // traffic off the machine unless asked to.
    String configured = cfg.getString("upstream", "");
    return vertx.executeBlocking(() -> configured.equals("auto") ? hostResolver()
        : configured.isEmpty() ? null : configured).compose(u -> {
      upstream = u;
      return client.watch(Resources.builtIn("", "services"), o -> true, ev -> apply(ev, true));
    }).compose(i -> {
      services = i;
      return client.watch(Resources.builtIn("", "endpoints"), o -> true, ev -> apply(ev, false));
    }).compose(i -> {
      endpoints = i;
      socket = vertx.createDatagramSocket();
      return socket.listen(port, host).map(s -> {
        s.handler(this::onQuery);
        LOG.info("dns: serving " + dns.domain() + " on udp " + host + ":" + port + (upstream == null ? ""
            : ", forwarding other names to " + upstream));
        return s;
      }).recover(e -> {
        // Another kvx on this machine may serve the port; pods' lookups then go to it.
        LOG.warning("dns: cannot listen on udp " + host + ":" + port + " (" + e.getMessage() + "); cluster DNS is "
            + "not served by this JVM");
        return Future.succeededFuture();
      });
    });
  }

  @Override
  public Future<?> stop() {
    if (services != null) services.stop();
    if (endpoints != null) endpoints.stop();
    return socket == null ? Future.succeededFuture() : socket.close();
  }

  private void apply(WatchEvent ev, boolean service) {
    boolean gone = ev.type().equals(WatchEvent.DELETED);
    if (service) {
      if (gone) dns.removeService(ev.object());
      else dns.putService(ev.object());
    } else {
      if (gone) dns.removeEndpoints(ev.object());
      else dns.putEndpoints(ev.object());
    }
  }

  private void onQuery(DatagramPacket packet) {
    InetSocketAddress sender = new InetSocketAddress(packet.sender().host(), packet.sender().port());
    DatagramDnsQuery query;
    EmbeddedChannel decoder = new EmbeddedChannel(new DatagramDnsQueryDecoder());
    try {
      decoder.writeInbound(new io.netty.channel.socket.DatagramPacket(Unpooled.wrappedBuffer(packet.data().getBytes()),
          new InetSocketAddress(0), sender));
      query = decoder.readInbound();
    } catch (RuntimeException e) {
      return; // not a DNS query: drop it, as resolvers do
    } finally {
      decoder.finishAndReleaseAll();
    }
    if (query == null) return;
    try {
      DnsQuestion question = query.recordAt(DnsSection.QUESTION);
      if (question == null) return;
      ClusterDns.Reply answer = dns.answer(question.name(), type(question.type()));
      if (!answer.ours()) {
        if (upstream != null) forward(packet, sender);
        else if (dns.inZone(question.name())) reply(packet, sender, query, question, DnsResponseCode.NXDOMAIN, null);
        else reply(packet, sender, query, question, DnsResponseCode.REFUSED, null);
        return;
      }
      reply(packet, sender, query, question, answer.nxdomain() ? DnsResponseCode.NXDOMAIN : DnsResponseCode.NOERROR,
          answer);
    } catch (java.io.IOException e) {
      LOG.fine("dns: " + e.getMessage());
    } finally {
      query.release();
    }
  }

  static ClusterDns.Type type(DnsRecordType t) {
    if (t == DnsRecordType.A) return ClusterDns.Type.A;
    if (t == DnsRecordType.AAAA) return ClusterDns.Type.AAAA;
    if (t == DnsRecordType.SRV) return ClusterDns.Type.SRV;
    if (t == DnsRecordType.PTR) return ClusterDns.Type.PTR;
    if (t == DnsRecordType.CNAME) return ClusterDns.Type.CNAME;
    if (t == DnsRecordType.SOA) return ClusterDns.Type.SOA;
    return ClusterDns.Type.OTHER;
  }

  private void reply(DatagramPacket packet, InetSocketAddress sender, DatagramDnsQuery query, DnsQuestion question,
                     DnsResponseCode code, ClusterDns.Reply answer) throws java.io.IOException {
    DatagramDnsResponse response = new DatagramDnsResponse(new InetSocketAddress(0), sender, query.id(),
        DnsOpCode.QUERY, code);
    response.setAuthoritativeAnswer(answer != null).setRecursionDesired(query.isRecursionDesired())
        .setRecursionAvailable(upstream != null);
    response.addRecord(DnsSection.QUESTION, question);
    if (answer != null) {
      // As CoreDNS: the SRV records of one name share a weight of 100 (floor(100 / n) each).
      long srvs = answer.answers().stream().filter(r -> r.type() == ClusterDns.Type.SRV).count();
      int weight = srvs == 0 ? 100 : (int) (100 / srvs);
      for (ClusterDns.Record r : answer.answers()) response.addRecord(DnsSection.ANSWER, encode(r, weight));
      if (answer.answers().isEmpty()) {
        // NXDOMAIN and NODATA carry the zone's SOA, so resolvers cache the negative answer briefly
        response.addRecord(DnsSection.AUTHORITY, soa(dns.domain()));
      }
    }
    EmbeddedChannel encoder = new EmbeddedChannel(new DatagramDnsResponseEncoder());
    try {
      encoder.writeOutbound(response);
      io.netty.channel.socket.DatagramPacket out = encoder.readOutbound();
      byte[] bytes = new byte[out.content().readableBytes()];
      out.content().readBytes(bytes);
      out.release();
      socket.send(Buffer.buffer(bytes), packet.sender().port(), packet.sender().host());
    } finally {
      encoder.finishAndReleaseAll();
    }
  }

  /** One answer record in wire form (rdata written here; names uncompressed). */
  static DefaultDnsRawRecord encode(ClusterDns.Record r, int srvWeight) throws java.io.IOException {
    ByteBuf data = Unpooled.buffer();
    DnsRecordType type = switch (r.type()) {
      case A -> {
        data.writeBytes(InetAddress.getByName(r.value()).getAddress());
        yield DnsRecordType.A;
      }
      case AAAA -> {
        data.writeBytes(InetAddress.getByName(r.value()).getAddress());
        yield DnsRecordType.AAAA;
      }
      case SRV -> {
        data.writeShort(0).writeShort(srvWeight).writeShort(r.port());
        writeName(data, r.value());
        yield DnsRecordType.SRV;
      }
      case PTR -> {
        writeName(data, r.value());
        yield DnsRecordType.PTR;
      }
      case CNAME -> {
        writeName(data, r.value());
        yield DnsRecordType.CNAME;
      }
      case SOA -> {
        data.release();
        yield null;
      }
      case OTHER -> throw new IllegalArgumentException("no record of type OTHER");
    };
    if (type == null) return soa(r.name());
    return new DefaultDnsRawRecord(r.name(), type, TTL, data);
  }

  /** The zone's SOA as CoreDNS writes it: ns.dns.ZONE hostmaster.ZONE serial 7200 1800 86400 TTL. */
  static DefaultDnsRawRecord soa(String zone) {
    ByteBuf data = Unpooled.buffer();
    writeName(data, "ns.dns." + zone);
    writeName(data, "hostmaster." + zone);
    data.writeInt((int) (System.currentTimeMillis() / 1000)).writeInt(7200).writeInt(1800).writeInt(86400)
        .writeInt((int) TTL);
    return new DefaultDnsRawRecord(zone + ".", DnsRecordType.SOA, TTL, data);
  }

  /** Names outside the cluster go to the host's resolver; its reply is relayed as is. */
  private void forward(DatagramPacket packet, InetSocketAddress sender) {
    if (upstream == null) return;
    DatagramSocket relay = vertx.createDatagramSocket();
    long timer = vertx.setTimer(3000, t -> relay.close());
    relay.handler(reply -> {
      vertx.cancelTimer(timer);
      socket.send(reply.data(), sender.getPort(), sender.getHostString());
      relay.close();
    });
    relay.send(packet.data(), 53, upstream).onFailure(e -> relay.close());
  }

  private static void writeName(ByteBuf buf, String name) {
    for (String label : name.split("\\.")) {
      if (label.isEmpty()) continue;
      byte[] b = label.getBytes(StandardCharsets.US_ASCII);
      buf.writeByte(b.length).writeBytes(b);
    }
    buf.writeByte(0);
  }

  /** The host's first nameserver that is not a loopback stub we might be ourselves. */
  private static String hostResolver() throws java.io.IOException {
    Path conf = Path.of("/etc/resolv.conf");
    if (!Files.exists(conf)) return null;
    for (String line : Files.readAllLines(conf)) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 2 && f[0].equals("nameserver")) return f[1];
    }
    return null;
  }
}
