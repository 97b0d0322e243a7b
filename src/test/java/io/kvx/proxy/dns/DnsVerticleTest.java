package io.kvx.proxy.dns;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The wire form of the records the cluster zone answers (rdata bytes as RFC 1035/3596/2782 lay them out). */
class DnsVerticleTest {

  static String rdata(DefaultDnsRawRecord r) {
    try {
      return ByteBufUtil.hexDump(r.content());
    } finally {
      r.release();
    }
  }

  @Test
  void encodesEachRecordType() throws Exception {
    assertEquals("0a60002a", rdata(DnsVerticle.encode(new ClusterDns.Record("web.", ClusterDns.Type.A, "10.96.0.42", 0),
        100)));
    assertEquals("fd00001000960000000000000000002a", rdata(DnsVerticle.encode(
        new ClusterDns.Record("v6.", ClusterDns.Type.AAAA, "fd00:10:96::2a", 0), 100)));
    // SRV: priority 0, weight 100 (one record; of three: 33 each, as CoreDNS), port 80, target as labels
    assertEquals("0000" + "0064" + "0050" + "03776562" + "0373766300", rdata(DnsVerticle.encode(
        new ClusterDns.Record("_http._tcp.web.", ClusterDns.Type.SRV, "web.svc", 80), 100)));
    assertEquals("0000" + "0021" + "0050" + "03776562" + "0373766300", rdata(DnsVerticle.encode(
        new ClusterDns.Record("_http._tcp.web.", ClusterDns.Type.SRV, "web.svc", 80), 33)));
    // PTR and CNAME: a name
    assertEquals("03776562" + "0373766300", rdata(DnsVerticle.encode(
        new ClusterDns.Record("42.0.96.10.in-addr.arpa.", ClusterDns.Type.PTR, "web.svc", 0), 100)));
    assertEquals(DnsRecordType.CNAME, DnsVerticle.encode(
        new ClusterDns.Record("ext.", ClusterDns.Type.CNAME, "db.example.org", 0), 100).type());
  }

  @Test
  void negativeAnswersCarryTheZonesSoa() {
    DefaultDnsRawRecord soa = DnsVerticle.soa("cluster.local");
    assertEquals(DnsRecordType.SOA, soa.type());
    assertEquals("cluster.local.", soa.name());
    String hex = rdata(soa);
    String mname = "026e7303646e7307636c7573746572056c6f63616c00";              // ns.dns.cluster.local
    String rname = "0a686f73746d617374657207636c7573746572056c6f63616c00";    // hostmaster.cluster.local
    assertEquals(mname + rname, hex.substring(0, mname.length() + rname.length()));
    // serial (any), refresh 7200, retry 1800, expire 86400, minimum 5
    assertEquals("00001c20" + "00000708" + "00015180" + "00000005", hex.substring(hex.length() - 32));
  }
}
