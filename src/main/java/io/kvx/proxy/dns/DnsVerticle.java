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
      String name = question.name();
      if (!dns.inZone(name) && upstream != null) {
        forward(packet, sender);
        return;
      }
      if (!dns.inZone(name)) {
        reply(packet, sender, query, question, DnsResponseCode.REFUSED, null);
        return;
      }
      boolean srv = question.type() == DnsRecordType.SRV;
      ClusterDns.Answer answer = dns.resolve(name, srv);
      reply(packet, sender, query, question, answer.exists() ? DnsResponseCode.NOERROR : DnsResponseCode.NXDOMAIN,
          answer);
    } catch (java.io.IOException e) {
      LOG.fine("dns: " + e.getMessage());
    } finally {
      query.release();
    }
  }

  private void reply(DatagramPacket packet, InetSocketAddress sender, DatagramDnsQuery query, DnsQuestion question,
                     DnsResponseCode code, ClusterDns.Answer answer) throws java.io.IOException {
    String name = question.name();
    boolean srv = question.type() == DnsRecordType.SRV;
    DatagramDnsResponse response = new DatagramDnsResponse(new InetSocketAddress(0), sender, query.id(),
        DnsOpCode.QUERY, code);
    response.setAuthoritativeAnswer(true).setRecursionDesired(query.isRecursionDesired()).setRecursionAvailable(true);
    response.addRecord(DnsSection.QUESTION, question);
    if (answer == null) {
      // no records: a refusal
    } else if (question.type() == DnsRecordType.A) {
      for (String ip : answer.addresses()) {
        response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(name, DnsRecordType.A, TTL,
            Unpooled.wrappedBuffer(InetAddress.getByName(ip).getAddress())));
      }
    } else if (srv) {
      for (ClusterDns.Srv s : answer.srv()) {
        ByteBuf data = Unpooled.buffer();
        data.writeShort(0).writeShort(100).writeShort(s.port());
        writeName(data, s.target());
        response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(name, DnsRecordType.SRV, TTL, data));
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
