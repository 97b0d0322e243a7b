package io.kvx.node;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodePressureTest {

  private static final long GI = 1L << 30;
  private static final long MI = 1L << 20;

  private static NodePressure.Signals signals(long memAvailable, long diskAvailable, long inodesFree, long tasks) {
    return new NodePressure.Signals(8 * GI, memAvailable, 100 * GI, diskAvailable, 1_000_000, inodesFree,
        100 * GI, diskAvailable, 1_000_000, inodesFree, 4_194_304, tasks);
  }

  @Test
  void kubernetesDefaultThresholds() {
    NodePressure p = new NodePressure(null, 300_000);
    Map<String, Boolean> ok = p.conditions(signals(GI, 50 * GI, 500_000, 500), 0);
    assertEquals(Map.of("MemoryPressure", false, "DiskPressure", false, "PIDPressure", false), ok);
    assertTrue(p.conditions(signals(99 * MI, 50 * GI, 500_000, 500), 1).get("MemoryPressure"), "memory.available<100Mi");
    assertTrue(new NodePressure(null, 300_000).conditions(signals(GI, 9 * GI, 500_000, 500), 0).get("DiskPressure"),
        "nodefs.available<10% (and imagefs<15%)");
    assertTrue(new NodePressure(null, 300_000).conditions(signals(GI, 50 * GI, 40_000, 500), 0).get("DiskPressure"),
        "nodefs.inodesFree<5%");
    assertFalse(new NodePressure(null, 300_000).conditions(signals(GI, 50 * GI, 500_000, 4_194_000), 0)
        .get("PIDPressure"), "no pid threshold by default");
  }

  @Test
  void configuredThresholdsAndTheTransitionPeriod() {
    NodePressure p = new NodePressure(new JsonObject().put("memory.available", "2Gi").put("pid.available", "10%"),
        300_000);
    assertTrue(p.conditions(signals(GI, 50 * GI, 500_000, 500), 0).get("MemoryPressure"));
    assertTrue(p.conditions(signals(4 * GI, 50 * GI, 500_000, 500), 299_999).get("MemoryPressure"),
        "held for the transition period after the signal recovered");
    assertFalse(p.conditions(signals(4 * GI, 50 * GI, 500_000, 500), 300_000).get("MemoryPressure"));
    assertTrue(p.conditions(signals(4 * GI, 50 * GI, 500_000, 3_900_000), 300_001).get("PIDPressure"));
    assertEquals(2 * GI, p.threshold("memory.available", 8 * GI));
    assertEquals(10 * GI, p.threshold("nodefs.available", 100 * GI));
  }
}
