package io.kvx.scheduler.framework;

import java.util.List;

/**
 * A soft rule (a priority): a score per feasible node, then NormalizeScore maps the raw scores onto
 * 0..{@link #MAX_SCORE}. The framework multiplies by the plugin's weight and sums.
 */
public interface ScorePlugin extends Plugin {

  long MAX_SCORE = 100;

  long score(CycleState state, PodInfo pod, NodeInfo node);

  /**
   * The NormalizeScore extension point: {@code scores[i]} is the raw score of {@code nodes.get(i)}, replaced in
   * place (kube-scheduler's NodeScoreList). The default leaves scores that are already 0..100 alone.
   */
  default void normalizeScore(CycleState state, PodInfo pod, List<NodeInfo> nodes, long[] scores) {
  }

  /** Scales scores so the highest becomes MAX_SCORE (reverse: the lowest does). */
  static void normalize(long[] scores, boolean reverse) {
    long max = 0;
    for (long s : scores) max = Math.max(max, s);
    if (max == 0) {
      if (reverse) java.util.Arrays.fill(scores, MAX_SCORE);
      return;
    }
    for (int i = 0; i < scores.length; i++) {
      long s = scores[i] * MAX_SCORE / max;
      scores[i] = reverse ? MAX_SCORE - s : s;
    }
  }
}
