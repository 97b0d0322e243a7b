package io.kvx.proxy;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StaleUdpTest {

  static final ServicePortName DNS = new ServicePortName("kube-system", "dns", "dns", "UDP");
  static final ServicePortName WEB = new ServicePortName("kube-system", "dns", "web", "TCP");

  static ProxySnapshot snapshot(List<String> udpEndpoints, List<String> tcpEndpoints) {
    return ProxySnapshot.of(Map.of("kube-system/dns", Map.of(
            DNS, new ServicePort(DNS, "10.96.0.10", 53, "UDP", 30053, 0),
            WEB, new ServicePort(WEB, "10.96.0.10", 80, "TCP", 0, 0))),
        Map.of("kube-system/dns", Map.of(
            DNS, udpEndpoints.stream().map(ip -> new Endpoint(ip, 5353, true)).toList(),
            WEB, tcpEndpoints.stream().map(ip -> new Endpoint(ip, 8080, true)).toList())));
  }

  @Test
  void removedUdpEndpointsAndFirstEndpointsLeaveStaleFlows() {
    Set<String> changed = Set.of("kube-system/dns");
    ProxySnapshot two = snapshot(List.of("10.42.0.5", "10.42.0.6"), List.of("10.42.0.5", "10.42.0.6"));
    ProxySnapshot one = snapshot(List.of("10.42.0.5"), List.of("10.42.0.5"));
    ProxySnapshot none = snapshot(List.of(), List.of());
    // an endpoint leaves: its flows to the cluster IP and to the node port (TCP needs nothing)
    assertEquals(List.of(new StaleUdp.Flow("10.96.0.10", 53, "10.42.0.6"), new StaleUdp.Flow(null, 30053, "10.42.0.6")),
        StaleUdp.between(two, one, changed));
    // the first endpoint arrives: whatever was caught while there was none
    assertEquals(List.of(new StaleUdp.Flow("10.96.0.10", 53, null), new StaleUdp.Flow(null, 30053, null)),
        StaleUdp.between(none, one, changed));
    // more endpoints, or another service changed: nothing
    assertEquals(List.of(), StaleUdp.between(one, two, changed));
    assertEquals(List.of(), StaleUdp.between(two, one, Set.of("default/other")));
    // the service goes away
    assertEquals(4, StaleUdp.between(two, ProxySnapshot.empty(), changed).size());
    assertEquals(List.of("conntrack", "-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--orig-port-dst", "53",
        "--reply-src", "10.42.0.6"), new StaleUdp.Flow("10.96.0.10", 53, "10.42.0.6").command());
  }
}
