package io.kvx.proxy.userspace;

import io.kvx.proxy.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LoadBalancerTest {

  static final Endpoint A = new Endpoint("10.42.0.5", 80, true);
  static final Endpoint B = new Endpoint("10.42.0.6", 80, true);
  static final Endpoint C = new Endpoint("10.42.0.7", 80, true);

  @Test
  void roundRobinOffersEveryEndpointToRetry() {
    LoadBalancer lb = new LoadBalancer();
    lb.update(List.of(A, B, C), 0);
    assertEquals(List.of(A, B, C), lb.order("c", 0));
    assertEquals(List.of(B, C, A), lb.order("c", 0));
    assertEquals(List.of(C, A, B), lb.order("c", 0));
    lb.update(List.of(), 0);
    assertEquals(List.of(), lb.order("c", 0));
  }

  @Test
  void clientIpAffinityUntilTimeoutOrEndpointGone() {
    LoadBalancer lb = new LoadBalancer();
    lb.update(List.of(A, B, C), 10);
    lb.used("c", B, 0);
    assertEquals(B, lb.order("c", 5_000).get(0));
    assertEquals(B, lb.order("c", 9_000).get(0));
    assertEquals(3, lb.order("c", 9_000).size(), "the others stay as fallbacks");
    lb.update(List.of(A, C), 10);
    assertEquals(true, List.of(A, C).contains(lb.order("c", 9_500).get(0)), "B is gone, so is its stickiness");
    lb.used("c", C, 10_000);
    assertEquals(C, lb.order("c", 19_000).get(0));
    lb.update(List.of(A, C), 0);
    lb.used("c", C, 20_000);
    assertEquals(2, lb.order("c", 20_000).size());
  }

  @Test
  void affinityEndsAfterTimeoutSeconds() {
    LoadBalancer lb = new LoadBalancer();
    lb.update(List.of(A, B, C), 10);
    lb.used("c", B, 0);
    assertEquals(List.of(B, B), List.of(lb.order("c", 10_000).get(0), lb.order("c", 10_000).get(0)));
    // 10 s without a new connection: round robin again, so two picks differ
    Endpoint first = lb.order("c", 10_001).get(0);
    Endpoint second = lb.order("c", 10_001).get(0);
    assertEquals(false, first.equals(second), first + " then " + second);
  }
}
