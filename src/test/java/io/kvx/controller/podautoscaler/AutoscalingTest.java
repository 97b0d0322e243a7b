package io.kvx.controller.podautoscaler;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class AutoscalingTest {

  @Test
  void desiredReplicasFollowUtilizationWithinToleranceAndBounds() {
    record Case(int current, double util, double target, int min, int max, int want) {}
    for (Case c : new Case[] {
        new Case(2, 200, 50, 1, 10, 8),   // four times the target
        new Case(4, 25, 50, 1, 10, 2),    // half the target
        new Case(4, 54, 50, 1, 10, 4),    // within 10%: unchanged
        new Case(3, 500, 50, 1, 5, 5),    // clamped to max
        new Case(3, 0, 50, 2, 5, 2),      // clamped to min
    }) {
      assertEquals(c.want(), Autoscaling.desired(c.current(), c.util(), c.target(), c.min(), c.max()), c.toString());
    }
  }

  /** A pod requesting 100m at a 50% target: due 50m, fallback 100m. */
  private static Autoscaling.Sample cpu(Long usedMilli, boolean ready) {
    return new Autoscaling.Sample(50, 100, usedMilli, ready);
  }

  @Test
  void replicaCalculatorHandlesMissingAndUnreadyPodsAsKubernetesDoes() {
    record Case(String what, int current, List<Autoscaling.Sample> pods, int want) {}
    for (Case c : new Case[] {
        new Case("two pods at 200% of a 50% target", 2, List.of(cpu(100L, true), cpu(100L, true)), 4),
        new Case("on target", 2, List.of(cpu(52L, true), cpu(48L, true)), 2),
        // a new pod without metrics counts as 0 on the way up: (100+100+0)/(3*50) = 1.33 -> ceil(4)
        new Case("scale up with a pod missing metrics", 3, List.of(cpu(100L, true), cpu(100L, true), cpu(null, true)), 4),
        // a missing pod on the way down counts as its fallback (100% of request): (10+10+100)/(150) = 0.8 -> 3
        new Case("scale down with a pod missing metrics", 3, List.of(cpu(10L, true), cpu(10L, true), cpu(null, true)), 3),
        // not-ready pods are left out of the up estimate and then counted at zero: (100)/(2*50)=1.0 -> stay
        new Case("unready pod dampens a scale up", 2, List.of(cpu(100L, true), cpu(500L, false)), 2),
        new Case("unready pod does not block a scale down", 2, List.of(cpu(10L, true), cpu(0L, false)), 1),
    }) {
      assertEquals(c.want(), Autoscaling.propose(c.current(), c.pods()).replicas(), c.what());
    }
    assertFalse(Autoscaling.propose(2, List.of(cpu(null, true), cpu(null, true))).valid(), "no metrics at all");
  }

  @Test
  void behaviourStabilisesScaleDownAndLimitsScaleUpRate() {
    Autoscaling.Rules up = Autoscaling.Rules.DEFAULT_UP;
    Autoscaling.Rules down = Autoscaling.Rules.DEFAULT_DOWN;
    List<Autoscaling.Point> recs = new ArrayList<>();
    List<Autoscaling.Point> changes = new ArrayList<>();
    // Scale up from 1 to 10 wanted: at most max(1+4, 1*2) = 5 in one 15 s period.
    Autoscaling.Decision d = Autoscaling.normalize(1, 10, 1, 20, up, down, recs, changes, 0);
    assertEquals(5, d.replicas());
    assertEquals("ScaleUpLimit", d.limitReason());
    // 10 s later, still within the period: the 4 added count, so the limit is max(1+4, ceil(1*2)) = 5 again.
    assertEquals(5, Autoscaling.normalize(5, 10, 1, 20, up, down, recs, changes, 10_000).replicas());
    // After the period: max(5+4, 10) = 10.
    assertEquals(10, Autoscaling.normalize(5, 10, 1, 20, up, down, recs, changes, 30_000).replicas());
    // Load drops: the 300 s scale-down window keeps the highest recent recommendation.
    d = Autoscaling.normalize(10, 2, 1, 20, up, down, recs, changes, 60_000);
    assertEquals(10, d.replicas());
    assertEquals("ScaleDownStabilized", d.limitReason());
    // Once the window has passed, it goes down.
    assertEquals(2, Autoscaling.normalize(10, 2, 1, 20, up, down, recs, changes, 400_000).replicas());

    // A zero window and a Pods policy of 1 per 60 s: one pod at a time.
    Autoscaling.Rules slowDown = new Autoscaling.Rules(0, "Max", List.of(new Autoscaling.Policy("Pods", 1, 60)));
    List<Autoscaling.Point> r2 = new ArrayList<>();
    List<Autoscaling.Point> c2 = new ArrayList<>();
    assertEquals(4, Autoscaling.normalize(5, 1, 1, 10, up, slowDown, r2, c2, 0).replicas());
    assertEquals(4, Autoscaling.normalize(4, 1, 1, 10, up, slowDown, r2, c2, 30_000).replicas());
    assertEquals(3, Autoscaling.normalize(4, 1, 1, 10, up, slowDown, r2, c2, 61_000).replicas());
    // Disabled scale-down never shrinks; max still clamps.
    Autoscaling.Rules off = new Autoscaling.Rules(0, "Disabled", List.of());
    assertEquals(6, Autoscaling.normalize(6, 1, 1, 10, up, off, new ArrayList<>(), new ArrayList<>(), 0).replicas());
    d = Autoscaling.normalize(3, 30, 1, 6, up, down, new ArrayList<>(), new ArrayList<>(), 0);
    assertEquals(6, d.replicas());
    assertEquals("TooManyReplicas", d.limitReason());
    assertNull(Autoscaling.normalize(3, 3, 1, 6, up, down, new ArrayList<>(), new ArrayList<>(), 0).limitReason());
  }
}
