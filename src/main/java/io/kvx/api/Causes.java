package io.kvx.api;

/** The causes of an Invalid error, worded as kube's field errors print them. Pure. */
public final class Causes {

  private Causes() {
  }

  /** {@code Invalid value: "VALUE": WHY}. */
  public static ApiError.Cause invalid(String field, String value, String why) {
    return new ApiError.Cause(field, "FieldValueInvalid", "Invalid value: \"" + value + "\": " + why);
  }

  /** {@code Invalid value: N: WHY} (a number, unquoted). */
  public static ApiError.Cause invalidNumber(String field, long value, String why) {
    return new ApiError.Cause(field, "FieldValueInvalid", "Invalid value: " + value + ": " + why);
  }

  /** {@code Required value} with an optional explanation. */
  public static ApiError.Cause required(String field, String why) {
    return new ApiError.Cause(field, "FieldValueRequired", why == null || why.isEmpty() ? "Required value"
        : "Required value: " + why);
  }

  /** {@code Unsupported value: "VALUE": supported values: "A", "B"}. */
  public static ApiError.Cause notSupported(String field, String value, String... allowed) {
    StringBuilder b = new StringBuilder();
    for (String a : allowed) b.append(b.isEmpty() ? "" : ", ").append('"').append(a).append('"');
    return new ApiError.Cause(field, "FieldValueNotSupported", "Unsupported value: \"" + value + "\": supported values: "
        + b);
  }

  /** {@code Duplicate value: "VALUE"}. */
  public static ApiError.Cause duplicate(String field, String value) {
    return new ApiError.Cause(field, "FieldValueDuplicate", "Duplicate value: \"" + value + "\"");
  }

  /** {@code Forbidden: WHY}. */
  public static ApiError.Cause forbidden(String field, String why) {
    return new ApiError.Cause(field, "FieldValueForbidden", "Forbidden: " + why);
  }
}
