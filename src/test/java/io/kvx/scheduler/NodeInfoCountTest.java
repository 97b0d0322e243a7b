package io.kvx.scheduler;

import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NodeInfoCountTest {

  @Test
  void memoisedCountsFollowPodChanges() {
    NodeInfo n = Fixtures.node("n1", "4", "8Gi");
    AtomicInteger evaluated = new AtomicInteger();
    Predicate<PodInfo> web = p -> {
      evaluated.incrementAndGet();
      return "web".equals(p.labels().get("app"));
    };
    n.addPod(Fixtures.pod("a", "{'labels':{'app':'web'}}", "{}"));
    n.addPod(Fixtures.pod("b", "{'labels':{'app':'db'}}", "{}"));
    assertEquals(1, n.countPods("web", web));
    int after = evaluated.get();
    assertEquals(1, n.countPods("web", web));
    assertEquals(after, evaluated.get(), "an unchanged node is not counted again");
    n.addPod(Fixtures.pod("c", "{'labels':{'app':'web'}}", "{}"));
    assertEquals(2, n.countPods("web", web));
    n.addPod(Fixtures.pod("a", "{'labels':{'app':'db'}}", "{}"));
    assertEquals(1, n.countPods("web", web), "a pod whose labels changed is counted anew");
    n.removePod(Fixtures.pod("c", "{}").key());
    assertEquals(0, n.countPods("web", web));
  }
}
