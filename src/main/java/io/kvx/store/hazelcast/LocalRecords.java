package io.kvx.store.hazelcast;

import com.hazelcast.core.HazelcastInstance;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The change-log records this JVM's sequencer has just written, with the changes they were made from, for this
 * JVM's watch cache: a record the cache reads that is the same text as one here at the same sequence is the
 * same change, so the cache takes the change (its object already built) instead of parsing the text again.
 * Only an optimisation: a record not here, overwritten, or different in any character is parsed as before, so
 * a wrong sequence guess, another leader, or a lost and rewritten sequence never makes the cache apply anything
 * but what the change log holds. The object is the sequencer's own instance, which nothing changes after
 * commit (objects the store hands out are read-only, see {@link io.kvx.store.Store}).
 */
final class LocalRecords {

  /**
   * Bounded: the last this many records; older ones are parsed (a cache that far behind re-reads anyway). The
   * watch cache reads a batch right after it is published, a few hundred records at most behind; a longer window
   * only keeps the changes' text alive for the collector to copy.
   */
  static final int SLOTS = 1024;
  private static final String KEY = LocalRecords.class.getName();

  /** {@code prefix} is the record's text before the object's ({@link Sequencer.Change#recordPrefix}). */
  record Entry(long sequence, String prefix, Sequencer.Change change, long time) {
  }

  private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(SLOTS);

  /** The one of this Hazelcast member (several members may share a JVM in tests: each has its own). */
  static LocalRecords of(HazelcastInstance hz) {
    return (LocalRecords) hz.getUserContext().computeIfAbsent(KEY, k -> new LocalRecords());
  }

  /**
   * Offers the record expected at {@code sequence}, made from {@code change} at {@code time}: the record is
   * {@code prefix}, the change's encoded object and "}" ({@link Sequencer.Change#toRecord}); kept in its parts, so
   * that the object's text is not held twice.
   */
  void offer(long sequence, String prefix, Sequencer.Change change, long time) {
    slots.set(slot(sequence), new Entry(sequence, prefix, change, time));
  }

  /** The entry for the record read at {@code sequence}, if it is exactly the text offered there; else null. */
  Entry match(long sequence, String record) {
    Entry e = slots.get(slot(sequence));
    if (e == null || e.sequence() != sequence) return null;
    String prefix = e.prefix();
    String object = e.change().encoded();
    return record.length() == prefix.length() + object.length() + 1 && record.startsWith(prefix)
        && record.startsWith(object, prefix.length()) && record.charAt(record.length() - 1) == '}' ? e : null;
  }

  private static int slot(long sequence) {
    return (int) (sequence & (SLOTS - 1));
  }
}
