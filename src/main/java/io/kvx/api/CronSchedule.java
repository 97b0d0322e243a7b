package io.kvx.api;

import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Map;

/**
 * A standard five-field cron schedule (minute hour day-of-month month day-of-week) with ranges, steps,
 * lists, names and the @hourly/@daily/... macros, as CronJob's spec.schedule takes it. Pure.
 */
public final class CronSchedule {

  private static final Map<String, String> MACROS = Map.of("@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *",
      "@monthly", "0 0 1 * *", "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *",
      "@hourly", "0 * * * *");
  private static final String[] MONTHS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
      "nov", "dec"};
  private static final String[] DAYS = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

  private final BitSet minutes;
  private final BitSet hours;
  private final BitSet daysOfMonth;
  private final BitSet months;
  private final BitSet daysOfWeek;
  private final boolean domStar;
  private final boolean dowStar;

  private CronSchedule(String[] f) {
    minutes = field(f[0], 0, 59, null);
    hours = field(f[1], 0, 23, null);
    daysOfMonth = field(f[2], 1, 31, null);
    months = field(f[3], 1, 12, MONTHS);
    daysOfWeek = field(f[4], 0, 7, DAYS);
    if (daysOfWeek.get(7)) daysOfWeek.set(0);
    domStar = f[2].equals("*") || f[2].equals("?");
    dowStar = f[4].equals("*") || f[4].equals("?");
  }

  public static CronSchedule parse(String text) {
    String t = text.trim();
    if (t.startsWith("TZ=") || t.startsWith("CRON_TZ=")) t = t.substring(t.indexOf(' ') + 1).trim();
    t = MACROS.getOrDefault(t, t);
    String[] f = t.split("\\s+");
    if (f.length != 5) throw new IllegalArgumentException("expected exactly 5 fields, found " + f.length);
    return new CronSchedule(f);
  }

  public static boolean isValid(String text) {
    try {
      parse(text);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** The first matching minute strictly after {@code after}. */
  public ZonedDateTime next(ZonedDateTime after) {
    ZonedDateTime t = after.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
    for (int i = 0; i < 60 * 24 * 366 * 5; i++) {
      if (matches(t)) return t;
      t = t.plusMinutes(1);
    }
    throw new IllegalStateException("no matching time within five years");
  }

  private boolean matches(ZonedDateTime t) {
    if (!minutes.get(t.getMinute()) || !hours.get(t.getHour()) || !months.get(t.getMonthValue())) return false;
    boolean dom = daysOfMonth.get(t.getDayOfMonth());
    boolean dow = daysOfWeek.get(t.getDayOfWeek().getValue() % 7);
    // Cron's rule: when both day fields are restricted, either may match.
    if (domStar || dowStar) return dom && dow;
    return dom || dow;
  }

  private static BitSet field(String spec, int min, int max, String[] names) {
    BitSet bits = new BitSet(max + 1);
    for (String part : spec.split(",")) {
      int step = 1;
      String range = part;
      int slash = part.indexOf('/');
      if (slash >= 0) {
        step = Integer.parseInt(part.substring(slash + 1));
        if (step <= 0) throw new IllegalArgumentException("step must be positive");
        range = part.substring(0, slash);
      }
      int lo;
      int hi;
      if (range.equals("*") || range.equals("?")) {
        lo = min;
        hi = max;
      } else if (range.contains("-")) {
        String[] ends = range.split("-", 2);
        lo = value(ends[0], names, min);
        hi = value(ends[1], names, min);
      } else {
        lo = value(range, names, min);
        hi = slash >= 0 ? max : lo;
      }
      if (lo < min || hi > max || lo > hi) throw new IllegalArgumentException("value out of range: " + part);
      for (int v = lo; v <= hi; v += step) bits.set(v);
    }
    return bits;
  }

  private static int value(String s, String[] names, int min) {
    if (names != null) {
      for (int i = 0; i < names.length; i++) {
        if (names[i].equalsIgnoreCase(s)) return i + min;
      }
    }
    return Integer.parseInt(s);
  }
}
