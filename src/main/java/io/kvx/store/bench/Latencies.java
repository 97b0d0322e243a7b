package io.kvx.store.bench;

import java.util.Arrays;

/** Recorded durations (nanoseconds) and their percentiles; callbacks of several event loops add to it. */
final class Latencies {

  private long[] values = new long[1024];
  private int size;

  synchronized void add(long nanos) {
    if (size == values.length) values = Arrays.copyOf(values, size * 2);
    values[size++] = nanos;
  }

  synchronized int count() {
    return size;
  }

  /** The p-th percentile in milliseconds (p in 0..100). */
  synchronized double percentileMillis(double p) {
    if (size == 0) return Double.NaN;
    long[] sorted = Arrays.copyOf(values, size);
    Arrays.sort(sorted);
    int i = (int) Math.min(size - 1, Math.max(0, Math.ceil(p / 100.0 * size) - 1));
    return sorted[i] / 1e6;
  }
}
