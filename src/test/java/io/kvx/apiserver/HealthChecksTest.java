package io.kvx.apiserver;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class HealthChecksTest {

  @Test
  void answersAsKubeApiserver() {
    AtomicBoolean synced = new AtomicBoolean(false);
    HealthChecks readyz = new HealthChecks("readyz").add("ping", () -> true).add("informer-sync", synced::get);
    assertEquals(new HealthChecks.Reply(503, "[+]ping ok\n[-]informer-sync failed: reason withheld\nreadyz check failed"),
        readyz.answer(null, false, List.of(), 503));
    assertEquals(new HealthChecks.Reply(200, "ok"), readyz.answer(null, false, List.of("informer-sync"), 503),
        "an excluded check does not fail the endpoint");
    synced.set(true);
    assertEquals(new HealthChecks.Reply(200, "ok"), readyz.answer(null, false, List.of(), 503));
    assertEquals(new HealthChecks.Reply(200, "[+]ping ok\n[+]informer-sync ok\nreadyz check passed\n"),
        readyz.answer(null, true, List.of(), 503));
    assertEquals(new HealthChecks.Reply(200, "ok"), readyz.answer("ping", false, List.of(), 503));
    assertNull(readyz.answer("nope", false, List.of(), 503), "an unknown check is a 404");
  }
}
