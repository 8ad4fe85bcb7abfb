import { describe, expect, it } from "vitest";
import {
  cell,
  elapsed,
  formatDuration,
  formatTime,
  renderFields,
  renderTable,
} from "../../../lib/cli/output.ts";

describe("renderTable", () => {
  it("aligns columns two spaces apart and leaves the last one unpadded", () => {
    expect(
      renderTable(
        ["ID", "STATUS", "HINT"],
        [
          ["dev-1", "KEY_BASED", "nothing to do"],
          ["device-22", "UNREACHABLE", "start sshd"],
        ],
      ),
    ).toBe(
      [
        "ID         STATUS       HINT",
        "dev-1      KEY_BASED    nothing to do",
        "device-22  UNREACHABLE  start sshd",
        "",
      ].join("\n"),
    );
  });

  it("shows - for null, undefined and empty cells, without trailing blanks", () => {
    expect(
      renderTable(
        ["A", "B"],
        [
          [null, undefined],
          ["", 0],
        ],
      ),
    ).toBe("A  B\n-  -\n-  0\n");
  });

  it("prints only the header for no rows", () => {
    expect(renderTable(["ID", "STATUS"], [])).toBe("ID  STATUS\n");
  });
});

describe("cell", () => {
  it("keeps a device's text from breaking the row or driving the terminal", () => {
    expect(cell("line one\nline two\r\n\ttabbed")).toBe("line one line two  tabbed");
    expect(cell("red \u001b[31malert\u001b[0m")).toBe("red ?[31malert?[0m");
  });
});

describe("renderFields", () => {
  it("aligns values after their labels", () => {
    expect(
      renderFields([
        ["Run", "r-1"],
        ["Workflow", "rotate"],
        ["Device", null],
      ]),
    ).toBe("Run:       r-1\nWorkflow:  rotate\nDevice:    -\n");
  });
});

describe("times and durations", () => {
  it("prints instants to the second", () => {
    expect(formatTime("2025-06-01T12:00:05.123Z")).toBe("2025-06-01T12:00:05Z");
    expect(formatTime(null)).toBe("-");
  });

  it.each([
    [850, "850ms"],
    [4_200, "4.2s"],
    [185_000, "3m05s"],
    [7_440_000, "2h04m"],
    [-1, "-"],
  ])("formats %i ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("is - for a run that has not ended", () => {
    expect(elapsed("2025-06-01T12:00:00Z", null)).toBe("-");
    expect(elapsed("2025-06-01T12:00:00Z", "2025-06-01T12:00:01.500Z")).toBe("1.5s");
  });
});
