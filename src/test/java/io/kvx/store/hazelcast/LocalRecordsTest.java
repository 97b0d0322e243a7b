package io.kvx.store.hazelcast;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class LocalRecordsTest {

  private static Sequencer.Change change(long rev) {
    return new Sequencer.Change("core/configmaps/default/a", "ADDED",
        new JsonObject().put("metadata", new JsonObject().put("name", "a")), rev, "e1");
  }

  @Test
  void aRecordIsTakenOnlyAtItsSequenceAndWithTheSameText() {
    LocalRecords local = new LocalRecords();
    Sequencer.Change c = change(7);
    String record = c.toRecord(1000);
    local.offer(41, c.recordPrefix(1000), c, 1000);
    assertSame(c, local.match(41, record).change());
    // Another record at that sequence (a guess that was wrong, another leader's record): parsed, not taken.
    assertNull(local.match(41, change(8).toRecord(1000)));
    assertNull(local.match(41, c.toRecord(1001)));
    // The same text at another sequence (a lost sequence written again): not taken either.
    assertNull(local.match(42, record));
    assertNull(local.match(41 + LocalRecords.SLOTS, record));
    // A record differing in its last character only, or one character longer.
    assertNull(local.match(41, record.substring(0, record.length() - 1) + "]"));
    assertNull(local.match(41, record + " "));
  }

  @Test
  void aSlotHoldsTheNewestOffer() {
    LocalRecords local = new LocalRecords();
    Sequencer.Change old = change(1);
    local.offer(5, old.recordPrefix(1), old, 1);
    Sequencer.Change newer = change(2);
    local.offer(5 + LocalRecords.SLOTS, newer.recordPrefix(2), newer, 2);
    assertNull(local.match(5, old.toRecord(1)));
    assertSame(newer, local.match(5 + LocalRecords.SLOTS, newer.toRecord(2)).change());
  }
}
