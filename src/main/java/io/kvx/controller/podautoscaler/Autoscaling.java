package io.kvx.controller.podautoscaler;

/**
 * The horizontal pod autoscaler's arithmetic, as Kubernetes computes it: desired replicas =
 * ceil(current * usage / target), unchanged within a 10% tolerance, clamped to [min, max]. Pure.
 */
public final class Autoscaling {

  public static final double TOLERANCE = 0.1;

  private Autoscaling() {
  }

  /**
   * @param current the current replica count
   * @param utilization the measured average utilization (percent of requests)
   * @param target the target average utilization (percent)
   */
  public static int desired(int current, double utilization, double target, int min, int max) {
    if (current == 0) return Math.max(min, 0);
    double ratio = utilization / target;
    int desired = Math.abs(ratio - 1.0) <= TOLERANCE ? current : (int) Math.ceil(current * ratio);
    return Math.max(min, Math.min(max, desired));
  }
}
