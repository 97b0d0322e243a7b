package io.kvx.scheduler;

import io.kvx.scheduler.framework.Framework;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.plugins.noderesources.NodeResourcesFit;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.kvx.scheduler.Fixtures.node;
import static io.kvx.scheduler.Fixtures.pod;
import static io.kvx.scheduler.Fixtures.requests;
import static io.kvx.scheduler.Fixtures.with;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulerConfigTest {

  @Test
  void defaultProfile() {
    Framework fw = SchedulerConfig.defaults("default-scheduler").profiles().get(0);
    assertEquals(List.of("NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
        "NodeResourcesFit", "VolumeRestrictions", "VolumeBinding", "VolumeZone", "PodTopologySpread",
        "InterPodAffinity"), fw.pluginNames("filter"));
    assertEquals(List.of("TaintToleration", "NodeAffinity", "NodeResourcesFit", "PodTopologySpread",
        "InterPodAffinity", "NodeResourcesBalancedAllocation", "ImageLocality"), fw.pluginNames("score"));
    assertEquals(List.of("DefaultPreemption"), fw.pluginNames("postFilter"));
    assertEquals(List.of("DefaultBinder"), fw.pluginNames("bind"));
  }

  @Test
  void profilesPluginsWeightsAndArgs() {
    String yaml = """
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        profiles:
        - schedulerName: default-scheduler
        - schedulerName: bin-packer
          plugins:
            score:
              disabled:
              - name: '*'
              enabled:
              - name: NodeResourcesFit
                weight: 5
            filter:
              disabled:
              - name: NodePorts
            postFilter:
              disabled:
              - name: DefaultPreemption
          pluginConfig:
          - name: NodeResourcesFit
            args:
              scoringStrategy:
                type: MostAllocated
                resources:
                - name: cpu
                  weight: 1
        """;
    SchedulerConfig c = SchedulerConfig.parse(yaml, "default-scheduler");
    assertEquals(2, c.profiles().size());
    Framework packer = c.profiles().get(1);
    assertEquals("bin-packer", packer.schedulerName());
    assertEquals(List.of("NodeResourcesFit"), packer.pluginNames("score"));
    assertEquals(5, packer.scorePlugins().get(0).weight());
    assertFalse(packer.pluginNames("filter").contains("NodePorts"));
    assertTrue(packer.pluginNames("postFilter").isEmpty());
    assertEquals(NodeResourcesFit.Strategy.MostAllocated, ((NodeResourcesFit) packer.plugin("NodeResourcesFit")).strategy());
    // Bin packing: the fuller node wins.
    var r = new Scheduler().schedule(packer, pod("p", requests("1", null)), Snapshot.of(List.of(node("a", "4", "4Gi"),
        with(node("b", "4", "4Gi"), pod("o", requests("2", null))))));
    assertEquals("b", r.node());
  }

  @Test
  void legacyPolicy() {
    String json = """
        {"kind":"Policy","apiVersion":"v1",
         "predicates":[{"name":"PodFitsHostPorts"},{"name":"PodFitsResources"},{"name":"NoDiskConflict"},
                       {"name":"MatchNodeSelector"},{"name":"HostName"},{"name":"CheckNodeMemoryPressure"},
                       {"name":"CheckNodeDiskPressure"},{"name":"NoVolumeZoneConflict"}],
         "priorities":[{"name":"LeastRequestedPriority","weight":1},{"name":"BalancedResourceAllocation","weight":1},
                       {"name":"ServiceSpreadingPriority","weight":2},{"name":"ImageLocalityPriority","weight":1},
                       {"name":"NodeAffinityPriority","weight":1},{"name":"EqualPriority","weight":1}]}
        """;
    Framework fw = SchedulerConfig.parse(json, "default-scheduler").profiles().get(0);
    assertEquals(List.of("NodePorts", "NodeResourcesFit", "VolumeRestrictions", "NodeAffinity", "NodeName",
        "TaintToleration", "VolumeZone"), fw.pluginNames("filter"));
    assertEquals(List.of("NodeResourcesFit", "NodeAffinity", "NodeResourcesBalancedAllocation", "SelectorSpread",
        "ImageLocality", "EqualPriority"), fw.pluginNames("score"));
    assertEquals(2, fw.scorePlugins().stream().filter(w -> w.plugin().name().equals("SelectorSpread")).findFirst()
        .orElseThrow().weight());
  }

  @Test
  void unknownNamesAreErrors() {
    assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse(
        "{\"kind\":\"Policy\",\"predicates\":[{\"name\":\"Nope\"}]}", "d"));
    assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse(
        "kind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    score:\n      enabled:\n      - name: Nope\n", "d"));
  }

  @Test
  void leaderElectionBlock() {
    SchedulerConfig sc = SchedulerConfig.parse("""
        apiVersion: kubescheduler.config.k8s.io/v1
        kind: KubeSchedulerConfiguration
        leaderElection:
          leaderElect: true
          resourceName: gpu-scheduler
          resourceNamespace: kube-system
          leaseDuration: 1m30s
          retryPeriod: 500ms
        profiles:
        - schedulerName: gpu-scheduler
        """, "default-scheduler");
    SchedulerConfig.LeaderElection le = sc.leaderElection();
    assertEquals("gpu-scheduler", le.resourceName());
    assertEquals("kube-system", le.resourceNamespace());
    assertEquals(90_000L, le.leaseDurationMs());
    assertEquals(500L, le.retryPeriodMs());
    assertTrue(le.leaderElect());
    // nothing said: the verticle's own defaults apply
    SchedulerConfig.LeaderElection unset = SchedulerConfig.parse("kind: KubeSchedulerConfiguration", "x")
        .leaderElection();
    assertEquals(null, unset.resourceName());
    assertEquals(null, unset.leaseDurationMs());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse(
        "kind: KubeSchedulerConfiguration\nleaderElection:\n  leaseDuration: soon\n", "x"));
    assertTrue(e.getMessage().contains("leaderElection.leaseDuration"), e.getMessage());
  }
}
