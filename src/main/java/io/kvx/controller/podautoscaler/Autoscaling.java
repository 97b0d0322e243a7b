package io.kvx.controller.podautoscaler;

import java.util.List;

/**
 * The horizontal pod autoscaler's arithmetic, as Kubernetes' replica calculator and behaviour
 * normalisation do it. Pure: samples, rules and history in, a replica count and its reason out.
 *
 * <p>One metric: the usage ratio is the pods' summed usage over what they would use at the target;
 * within a 10% tolerance nothing changes. Pods without metrics count as using nothing when scaling up and
 * as using their fallback (100% of request, or the target) when scaling down; not-ready pods are left out
 * of a CPU scale-up; if that re-estimate flips direction or falls within tolerance, the size stays.
 *
 * <p>Then behaviour: a recommendation is stabilised over the scale-up and scale-down windows (default
 * 0 s and 300 s), and rate-limited by the policies (default up: max of 4 pods or 100% per 15 s; down: 100%
 * per 15 s), then clamped to [min, max].
 */
public final class Autoscaling {

  public static final double TOLERANCE = 0.1;

  private Autoscaling() {
  }

  /**
   * One pod of the target: what it would use at the metric's target ({@code due}), what to assume when it
   * has no metrics and the estimate is a scale-down ({@code fallback}), its usage (null: no metrics), and
   * whether it counts as ready (for CPU, not-ready pods are left out of a scale-up).
   */
  public record Sample(long due, long fallback, Long usage, boolean ready) {
  }

  /** One metric's proposal; {@code measured} is the usage over due of the pods with metrics (1.0 = on target). */
  public record Proposal(int replicas, double measured, long averageUsage, boolean valid) {
    static final Proposal NONE = new Proposal(0, 0, 0, false);
  }

  /** The replica calculator for one metric of the current pods. */
  public static Proposal propose(int current, List<Sample> pods) {
    long used = 0;
    long due = 0;
    int counted = 0;
    boolean unready = false;
    boolean missing = false;
    for (Sample s : pods) {
      if (s.usage() == null) {
        missing = true;
      } else if (!s.ready()) {
        unready = true;
      } else {
        used += s.usage();
        due += s.due();
        counted++;
      }
    }
    if (counted == 0 || due == 0) return Proposal.NONE;
    double ratio = (double) used / due;
    long average = used / counted;
    boolean upWithUnready = unready && ratio > 1.0;
    if (!upWithUnready && !missing) {
      if (Math.abs(ratio - 1.0) <= TOLERANCE) return new Proposal(current, ratio, average, true);
      return new Proposal((int) Math.ceil(ratio * counted), ratio, average, true);
    }
    // Re-estimate with the pods left out: missing ones at their fallback on the way down, at zero on the
    // way up; not-ready ones at zero on the way up.
    long used2 = used;
    long due2 = due;
    int n = counted;
    for (Sample s : pods) {
      if (s.usage() == null) {
        used2 += ratio < 1.0 ? s.fallback() : 0;
        due2 += s.due();
        n++;
      } else if (!s.ready() && upWithUnready) {
        due2 += s.due();
        n++;
      }
    }
    double ratio2 = (double) used2 / due2;
    if (Math.abs(ratio2 - 1.0) <= TOLERANCE || (ratio < 1.0 && ratio2 > 1.0) || (ratio > 1.0 && ratio2 < 1.0)) {
      return new Proposal(current, ratio, average, true);
    }
    int replicas = (int) Math.ceil(ratio2 * n);
    if ((ratio2 < 1.0 && replicas > current) || (ratio2 > 1.0 && replicas < current)) replicas = current;
    return new Proposal(replicas, ratio, average, true);
  }

  /** The old single-number form: utilisation percent against a target percent, clamped. */
  public static int desired(int current, double utilization, double target, int min, int max) {
    if (current == 0) return Math.max(min, 0);
    double ratio = utilization / target;
    int desired = Math.abs(ratio - 1.0) <= TOLERANCE ? current : (int) Math.ceil(current * ratio);
    return Math.max(min, Math.min(max, desired));
  }

  /** A scaling policy: at most {@code value} pods or percent per {@code periodSeconds}. */
  public record Policy(String type, int value, int periodSeconds) {
  }

  /** spec.behavior.scaleUp or scaleDown; selectPolicy Max, Min or Disabled. */
  public record Rules(int stabilizationSeconds, String selectPolicy, List<Policy> policies) {
    public static final Rules DEFAULT_UP = new Rules(0, "Max",
        List.of(new Policy("Pods", 4, 15), new Policy("Percent", 100, 15)));
    public static final Rules DEFAULT_DOWN = new Rules(300, "Max", List.of(new Policy("Percent", 100, 15)));

    long longestPeriodMs() {
      return policies.stream().mapToLong(p -> p.periodSeconds() * 1000L).max().orElse(0);
    }
  }

  /** A past recommendation or a past change of size (positive: added, negative: removed). */
  public record Point(long atMs, int value) {
  }

  /** The final size and, when a limit decided it, the ScalingLimited reason and message. */
  public record Decision(int replicas, String limitReason, String limitMessage) {
  }

  /**
   * Stabilises {@code desired} over the recommendations of the windows (adding it to {@code recommendations}
   * and dropping what is older than both windows), then applies the rate policies given the recent changes,
   * then min/max.
   */
  public static Decision normalize(int current, int desired, int min, int max, Rules up, Rules down,
                                   List<Point> recommendations, List<Point> changes, long nowMs) {
    long upCutoff = nowMs - up.stabilizationSeconds() * 1000L;
    long downCutoff = nowMs - down.stabilizationSeconds() * 1000L;
    int upRec = desired;
    int downRec = desired;
    for (Point r : recommendations) {
      if (r.atMs() > upCutoff) upRec = Math.min(upRec, r.value());
      if (r.atMs() > downCutoff) downRec = Math.max(downRec, r.value());
    }
    long keep = Math.min(upCutoff, downCutoff);
    recommendations.removeIf(r -> r.atMs() <= keep);
    recommendations.add(new Point(nowMs, desired));
    int stabilized = current;
    if (stabilized < upRec) stabilized = upRec;
    if (stabilized > downRec) stabilized = downRec;
    String reason = null;
    String message = null;
    if (stabilized != desired) {
      reason = "ScaleDownStabilized";
      message = "recent recommendations were higher than current one, applying the highest recent recommendation";
      if (stabilized < desired) {
        reason = "ScaleUpStabilized";
        message = "recent recommendations were lower than current one, applying the lowest recent recommendation";
      }
    }
    long keepChanges = nowMs - Math.max(up.longestPeriodMs(), down.longestPeriodMs());
    changes.removeIf(c -> c.atMs() <= keepChanges);
    int result = stabilized;
    if (stabilized > current) {
      int limit = Math.max(current, upLimit(current, changes, up, nowMs));
      if (result > limit) {
        result = limit;
        reason = "ScaleUpLimit";
        message = "the desired replica count is increasing faster than the maximum scale rate";
      }
    } else if (stabilized < current) {
      int limit = Math.min(current, downLimit(current, changes, down, nowMs));
      if (result < limit) {
        result = limit;
        reason = "ScaleDownLimit";
        message = "the desired replica count is decreasing faster than the maximum scale rate";
      }
    }
    if (result > max) {
      result = max;
      reason = "TooManyReplicas";
      message = "the desired replica count is more than the maximum replica count";
    } else if (result < min) {
      result = min;
      reason = "TooFewReplicas";
      message = "the desired replica count is less than the minimum replica count";
    }
    if (result != current) changes.add(new Point(nowMs, result - current));
    return new Decision(result, reason, message);
  }

  private static int changed(List<Point> changes, long sinceMs, boolean up) {
    int sum = 0;
    for (Point c : changes) {
      if (c.atMs() > sinceMs && (up ? c.value() > 0 : c.value() < 0)) sum += Math.abs(c.value());
    }
    return sum;
  }

  private static int upLimit(int current, List<Point> changes, Rules rules, long nowMs) {
    if ("Disabled".equals(rules.selectPolicy())) return current;
    boolean min = "Min".equals(rules.selectPolicy());
    int result = min ? Integer.MAX_VALUE : Integer.MIN_VALUE;
    for (Policy p : rules.policies()) {
      int start = current - changed(changes, nowMs - p.periodSeconds() * 1000L, true);
      int proposed = p.type().equals("Pods") ? start + p.value() : (int) Math.ceil(start * (1 + p.value() / 100.0));
      result = min ? Math.min(result, proposed) : Math.max(result, proposed);
    }
    return rules.policies().isEmpty() ? current : result;
  }

  private static int downLimit(int current, List<Point> changes, Rules rules, long nowMs) {
    if ("Disabled".equals(rules.selectPolicy())) return current;
    boolean min = "Min".equals(rules.selectPolicy());
    int result = min ? Integer.MIN_VALUE : Integer.MAX_VALUE;
    for (Policy p : rules.policies()) {
      int start = current + changed(changes, nowMs - p.periodSeconds() * 1000L, false);
      int proposed = p.type().equals("Pods") ? start - p.value() : (int) Math.floor(start * (1 - p.value() / 100.0));
      result = min ? Math.max(result, proposed) : Math.min(result, proposed);
    }
    return rules.policies().isEmpty() ? current : result;
  }
}
