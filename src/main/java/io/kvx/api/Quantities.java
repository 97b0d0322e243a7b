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

  private static final java.util.regex.Pattern FORM =
      java.util.regex.Pattern.compile("([+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+))([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?");
  private static final String[] BINARY = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

  /**
   * A quantity as Kubernetes writes it back: "0.5" is "500m", "1000m" is "1", "1024Mi" is "1Gi",
   * "1.5Gi" is "1536Mi". The suffix family (binary, decimal, exponent) is kept; a binary amount under
   * 1024 or with a fraction is written decimal; amounts are rounded up to nano units. Text that is no
   * quantity comes back as it is.
   */
  public static String canonical(String q) {
    if (q == null) return null;
    java.util.regex.Matcher m = FORM.matcher(q.trim());
    if (!m.matches()) return q;
    String suffix = m.group(2) == null ? "" : m.group(2);
    BigDecimal value = new BigDecimal(m.group(1));
    boolean binary = suffix.endsWith("i");
    boolean exponent = suffix.startsWith("e") || suffix.startsWith("E");
    if (binary) {
      int k = java.util.Arrays.asList(BINARY).indexOf(suffix);
      value = value.multiply(BigDecimal.valueOf(1024).pow(k));
    } else if (exponent) {
      value = value.scaleByPowerOfTen(Integer.parseInt(suffix.substring(1)));
    } else if (!suffix.isEmpty()) {
      value = value.scaleByPowerOfTen(switch (suffix) {
        case "n" -> -9;
        case "u" -> -6;
        case "m" -> -3;
        case "k" -> 3;
        case "M" -> 6;
        case "G" -> 9;
        case "T" -> 12;
        case "P" -> 15;
        default -> 18;
      });
    }
    if (value.scale() > 9) value = value.setScale(9, java.math.RoundingMode.CEILING);
    if (value.signum() == 0) return "0";
    if (binary && value.abs().compareTo(BigDecimal.valueOf(1024)) >= 0 && value.stripTrailingZeros().scale() <= 0) {
      java.math.BigInteger n = value.toBigIntegerExact();
      java.math.BigInteger unit = java.math.BigInteger.valueOf(1024);
      int k = 0;
      while (k < BINARY.length - 1 && n.mod(unit).signum() == 0) {
        n = n.divide(unit);
        k++;
      }
      return n + BINARY[k];
    }
    BigDecimal stripped = value.stripTrailingZeros();
    int exp = -stripped.scale();
    int e = Math.min(18, Math.floorDiv(exp, 3) * 3);
    java.math.BigInteger mantissa = stripped.scaleByPowerOfTen(-e).toBigIntegerExact();
    if (exponent) return e == 0 ? mantissa.toString() : mantissa + "e" + e;
    String decimal = switch (e) {
      case -9 -> "n";
      case -6 -> "u";
      case -3 -> "m";
      case 0 -> "";
      case 3 -> "k";
      case 6 -> "M";
      case 9 -> "G";
      case 12 -> "T";
      case 15 -> "P";
      default -> "E";
    };
    return mantissa + decimal;
  }

  /** Memory or storage in bytes; null is 0. */
  public static long bytes(String q) {
    if (q == null) return 0;
    return Quantity.getAmountInBytes(new Quantity(q)).longValue();
  }
}
