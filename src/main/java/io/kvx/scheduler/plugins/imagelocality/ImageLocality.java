package io.kvx.scheduler.plugins.imagelocality;

import io.fabric8.kubernetes.api.model.Container;
import io.kvx.scheduler.framework.CycleState;
import io.kvx.scheduler.framework.NodeInfo;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.framework.PreScorePlugin;
import io.kvx.scheduler.framework.ScorePlugin;
import io.kvx.scheduler.framework.Snapshot;
import io.kvx.scheduler.framework.Status;

import java.util.ArrayList;
import java.util.List;

/**
 * ImageLocalityPriority: nodes that already have the pod's images (node.status.images) score higher, in
 * proportion to the images' size, discounted by how few nodes have them (so pods do not all pile onto the
 * one node that pulled an image); below 23 MB it does not matter, 1000 MB per container saturates.
 */
public final class ImageLocality implements PreScorePlugin, ScorePlugin {

  public static final String NAME = "ImageLocality";
  static final long MB = 1024 * 1024;
  static final long MIN_THRESHOLD = 23 * MB;
  static final long MAX_CONTAINER_THRESHOLD = 1000 * MB;
  private static final String KEY = NAME + "/images";

  /** An image of the pod and the share of nodes that have it. */
  record Spread(String image, double share) {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Status preScore(CycleState state, PodInfo pod, List<NodeInfo> feasible, Snapshot snapshot) {
    int total = snapshot.nodes().size();
    List<Spread> images = new ArrayList<>();
    List<Container> containers = new ArrayList<>(pod.spec().getContainers() == null ? List.of()
        : pod.spec().getContainers());
    if (pod.spec().getInitContainers() != null) containers.addAll(pod.spec().getInitContainers());
    boolean anywhere = false;
    for (Container c : containers) {
      if (c.getImage() == null) continue;
      String img = NodeInfo.normalizeImage(c.getImage());
      int having = snapshot.nodesWithImage(img);
      anywhere |= having > 0;
      images.add(new Spread(img, total == 0 ? 0 : (double) having / total));
    }
    // No node has any of the images: every node would score 0, so the score pass is skipped (same totals).
    if (!anywhere) return Status.SKIP;
    state.write(KEY, images);
    return Status.SUCCESS;
  }

  @Override
  public long score(CycleState state, PodInfo pod, NodeInfo node) {
    if (node.images().isEmpty()) return 0; // the sum is 0, below the threshold
    List<Spread> images = state.read(KEY);
    if (images == null || images.isEmpty()) return 0;
    double sum = 0;
    for (Spread s : images) {
      Long size = node.images().get(s.image());
      if (size != null) sum += size * s.share();
    }
    long max = MAX_CONTAINER_THRESHOLD * images.size();
    long clamped = (long) Math.max(MIN_THRESHOLD, Math.min(max, sum));
    return MAX_SCORE * (clamped - MIN_THRESHOLD) / (max - MIN_THRESHOLD);
  }
}
