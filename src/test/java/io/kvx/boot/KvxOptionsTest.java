package io.kvx.boot;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KvxOptionsTest {

  @Test
  void badFlagsAreNamedInTheError() {
    assertEquals("--api-port needs a number, not \"abc\"",
        assertThrows(IllegalArgumentException.class, () -> KvxOptions.parse(new String[] {"up", "--api-port", "abc"}))
            .getMessage());
    assertEquals("--cluster-port needs a value",
        assertThrows(IllegalArgumentException.class, () -> KvxOptions.parse(new String[] {"up", "--cluster-port"}))
            .getMessage());
    assertEquals("unknown flag --nope",
        assertThrows(IllegalArgumentException.class, () -> KvxOptions.parse(new String[] {"up", "--nope", "1"}))
            .getMessage());
  }

  @Test
  void valuesParse() {
    KvxOptions o = KvxOptions.parse(new String[] {"up", "--api-port=7443", "--history-age", "90s"});
    assertEquals(7443, o.apiPort);
    assertEquals(Duration.ofSeconds(90), o.historyAge);
  }
}
