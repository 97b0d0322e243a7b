package io.kvx.apiserver;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * /healthz, /livez and /readyz as kube-apiserver answers them: "ok" when every named check passes,
 * each check on its own path (/livez/ping), {@code ?verbose} listing "[+]name ok" lines and
 * "livez check passed", {@code ?exclude=name} leaving checks out, and "[-]name failed: reason withheld"
 * with "livez check failed" when one fails. Pure: the checks are suppliers.
 */
final class HealthChecks {

  /** One answer: HTTP status and text. */
  record Reply(int status, String body) {}

  private final String endpoint;
  private final Map<String, BooleanSupplier> checks = new LinkedHashMap<>();

  HealthChecks(String endpoint) {
    this.endpoint = endpoint;
  }

  HealthChecks add(String name, BooleanSupplier check) {
    checks.put(name, check);
    return this;
  }

  Set<String> names() {
    return checks.keySet();
  }

  /** The answer for {@code /endpoint} or {@code /endpoint/<check>} (check null for the whole list). */
  Reply answer(String check, boolean verbose, List<String> excluded, int failStatus) {
    if (check != null) {
      BooleanSupplier c = checks.get(check);
      if (c == null) return null;
      return c.getAsBoolean() ? new Reply(200, "ok") : new Reply(failStatus, "internal server error: " + check
          + " check failed");
    }
    StringBuilder lines = new StringBuilder();
    boolean failed = false;
    for (Map.Entry<String, BooleanSupplier> e : checks.entrySet()) {
      if (excluded.contains(e.getKey())) {
        lines.append("[+]").append(e.getKey()).append(" excluded: ok\n");
        continue;
      }
      boolean ok = e.getValue().getAsBoolean();
      failed |= !ok;
      lines.append(ok ? "[+]" : "[-]").append(e.getKey()).append(ok ? " ok\n" : " failed: reason withheld\n");
    }
    if (failed) return new Reply(failStatus, lines + endpoint + " check failed");
    return new Reply(200, verbose ? lines + endpoint + " check passed\n" : "ok");
  }
}
