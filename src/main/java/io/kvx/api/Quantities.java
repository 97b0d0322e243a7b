package io.kvx.api;

import io.fabric8.kubernetes.api.model.Quantity;

import java.math.BigDecimal;

/** Kubernetes quantities ("100m", "64Mi", "1.5") as numbers, parsed by fabric8's Quantity. Pure. */
public final class Quantities {

  private Quantities() {
  }

  /** CPU in millicores; null is 0. */
  public static long milli(String q) {
    if (q == null) return 0;
    return Quantity.getAmountInBytes(new Quantity(q)).multiply(BigDecimal.valueOf(1000)).longValue();
  }

  /** Memory or storage in bytes; null is 0. */
  public static long bytes(String q) {
    if (q == null) return 0;
    return Quantity.getAmountInBytes(new Quantity(q)).longValue();
  }
}
