package io.kvx.proxy;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SyncRunnerTest {

  /** A manual clock and timer queue: time moves only when the test says so. */
  static final class Fake {
    long now;
    final List<long[]> due = new ArrayList<>();
    final List<Runnable> actions = new ArrayList<>();
    final List<Long> starts = new ArrayList<>();
    final List<Runnable> completions = new ArrayList<>();

    void advance(long millis) {
      now += millis * 1_000_000L;
      for (int i = 0; i < due.size(); i++) {
        if (due.get(i)[0] <= now) {
          due.remove(i);
          actions.remove(i).run();
          i = -1;
        }
      }
    }
  }

  @Test
  void coalescesBurstsAndKeepsTheMinimumInterval() {
    Fake f = new Fake();
    SyncRunner r = new SyncRunner(100, () -> f.now, (ms, a) -> {
      f.due.add(new long[] {f.now + ms * 1_000_000L});
      f.actions.add(a);
    }, done -> {
      f.starts.add(f.now / 1_000_000L);
      f.completions.add(done);
    });
    r.request();                       // runs at once
    assertEquals(List.of(0L), f.starts);
    for (int i = 0; i < 50; i++) r.request(); // while running: one more, later
    f.advance(10);
    f.completions.remove(0).run();     // first sync ends at 10 ms
    assertEquals(1, f.starts.size());  // not before 100 ms
    f.advance(89);
    assertEquals(1, f.starts.size());
    f.advance(1);
    assertEquals(List.of(0L, 100L), f.starts);
    f.completions.remove(0).run();
    f.advance(500);                    // idle: nothing runs by itself
    assertEquals(2, f.starts.size());
    r.request();                       // long after the last: at once
    assertEquals(List.of(0L, 100L, 600L), f.starts);
  }
}
