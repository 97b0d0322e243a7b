package io.kvx.node;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContainerLogsTest {

  @Test
  void parsesTheCriFormat() {
    ContainerLogs.Line l = ContainerLogs.parse("2026-01-02T03:04:05.123456000Z stderr F something  failed ");
    assertEquals(Instant.parse("2026-01-02T03:04:05.123456Z"), l.time());
    assertEquals("stderr", l.stream());
    assertFalse(l.partial());
    assertEquals("something  failed ", l.text());
    assertEquals("something  failed \n", l.render(false));
    assertEquals("2026-01-02T03:04:05.123456000Z something  failed \n", l.render(true));
  }

  @Test
  void emptyAndPartialLines() {
    ContainerLogs.Line empty = ContainerLogs.parse("2026-01-02T03:04:05.000000000Z stdout F ");
    assertEquals("", empty.text());
    ContainerLogs.Line bare = ContainerLogs.parse("2026-01-02T03:04:05.000000000Z stdout F");
    assertEquals("", bare.text());
    ContainerLogs.Line partial = ContainerLogs.parse("2026-01-02T03:04:05.000000000Z stdout P abc");
    assertTrue(partial.partial());
    assertEquals("abc", partial.render(false));
  }

  @Test
  void linesOfOldFilesPassThrough() {
    for (String raw : List.of("hello", "", "2026-01-02 not a time", "2026-01-02T03:04:05Z stdin F x",
        "2026-01-02T03:04:05.0Zzz stdout F x")) {
      ContainerLogs.Line l = ContainerLogs.parse(raw);
      assertNull(l.time(), raw);
      assertEquals(raw + "\n", l.render(true), raw);
    }
  }

  @Test
  void sinceKeepsLinesAtOrAfterAndLinesWithoutTime() {
    ContainerLogs.Options o = new ContainerLogs.Options(false, Instant.parse("2026-01-02T03:04:05Z"), null, null, false);
    assertTrue(o.accepts(ContainerLogs.parse("2026-01-02T03:04:05.000000000Z stdout F at")));
    assertFalse(o.accepts(ContainerLogs.parse("2026-01-02T03:04:04.999999000Z stdout F before")));
    assertTrue(o.accepts(ContainerLogs.parse("old line")));
  }

  @Test
  void tailOffsetFindsTheLastLines() {
    byte[] data = "a\nbb\nccc\n".getBytes(StandardCharsets.UTF_8);
    assertEquals(5, ContainerLogs.tailOffset(data, data.length, 1));
    assertEquals(2, ContainerLogs.tailOffset(data, data.length, 2));
    assertEquals(0, ContainerLogs.tailOffset(data, data.length, 10));
    assertEquals(data.length, ContainerLogs.tailOffset(data, data.length, 0));
    byte[] unfinished = "a\nbb".getBytes(StandardCharsets.UTF_8);
    assertEquals(2, ContainerLogs.tailOffset(unfinished, unfinished.length, 1));
  }

  @Test
  void completeLinesLeaveTheUnfinishedRest() {
    byte[] data = "one\ntwo\nthr".getBytes(StandardCharsets.UTF_8);
    List<String> lines = new ArrayList<>();
    int rest = ContainerLogs.completeLines(data, data.length, lines::add);
    assertEquals(List.of("one", "two"), lines);
    assertEquals(8, rest);
  }
}
