package io.kvx.scheduler.framework;

import java.util.Map;

/**
 * A soft rule (a priority): a score per feasible node, then NormalizeScore maps the raw scores onto
 * 0..{@link #MAX_SCORE}. The framework multiplies by the plugin's weight and sums.
 */
public interface ScorePlugin extends Plugin {

  long MAX_SCORE = 100;

  long score(CycleState state, PodInfo pod, NodeInfo node);

  /** The NormalizeScore extension point; the default leaves scores that are already 0..100 alone. */
  default void normalizeScore(CycleState state, PodInfo pod, Map<String, Long> scores) {
  }

  /** Scales scores so the highest becomes MAX_SCORE (reverse: the lowest does). */
  static void normalize(Map<String, Long> scores, boolean reverse) {
    long max = 0;
    for (long s : scores.values()) max = Math.max(max, s);
    if (max == 0) {
      if (reverse) scores.replaceAll((k, v) -> MAX_SCORE);
      return;
    }
    final long top = max;
    scores.replaceAll((k, v) -> {
      long s = v * MAX_SCORE / top;
      return reverse ? MAX_SCORE - s : s;
    });
  }
}
