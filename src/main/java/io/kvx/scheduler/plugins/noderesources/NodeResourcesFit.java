package io.kvx.scheduler.plugins.noderesources;

import io.kvx.scheduler.framework.FilterPlugin;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.Resource;
import io.kvx.scheduler.framework.ScorePlugin;
import io.vertx.core.json.JsonObject;

/** PodFitsResources as a filter, and LeastAllocated scoring (more free cpu and memory scores higher). */
public final class NodeResourcesFit implements FilterPlugin, ScorePlugin {

  public static final String NAME = "NodeResourcesFit";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String filter(JsonObject pod, NodeInfo node) {
    Resource want = Resource.ofPod(pod);
    Resource used = node.requested();
    Resource cap = node.allocatable();
    if (used.pods() + 1 > cap.pods()) return "Too many pods";
    if (want.milliCpu() > 0 && used.milliCpu() + want.milliCpu() > cap.milliCpu()) return "Insufficient cpu";
    if (want.memory() > 0 && used.memory() + want.memory() > cap.memory()) return "Insufficient memory";
    return null;
  }

  @Override
  public long score(JsonObject pod, NodeInfo node) {
    Resource want = Resource.ofPod(pod);
    return (free(node.allocatable().milliCpu(), node.requested().milliCpu() + want.milliCpu())
        + free(node.allocatable().memory(), node.requested().memory() + want.memory())) / 2;
  }

  private static long free(long capacity, long requested) {
    if (capacity <= 0 || requested > capacity) return 0;
    return (capacity - requested) * 100 / capacity;
  }
}
