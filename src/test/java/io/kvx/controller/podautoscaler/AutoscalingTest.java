package io.kvx.controller.podautoscaler;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
