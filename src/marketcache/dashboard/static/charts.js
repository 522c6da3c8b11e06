"use strict";
/* The dashboard's charts: uPlot time series; thresholds are dashed constant lines. */
(function () {
  const HEIGHT = 190;

  function seriesOptions(line) {
    const options = {
      label: line.label,
      stroke: line.color,
      width: line.threshold ? 1 : 2,
      spanGaps: false,
      value: (u, v) => (v == null ? "–" : v.toLocaleString("en-US", { maximumFractionDigits: 2 })),
    };
    if (line.threshold) {
      options.dash = [6, 4];
      options.points = { show: false };
    }
    return options;
  }

  /* One chart: `spec` = {key, title, unit, lines: [{label, color, threshold, value}], min?, max?};
     a threshold line is drawn at its constant `value`. */
  class Chart {
    constructor(parent, spec) {
      this.spec = spec;
      this.box = document.createElement("div");
      this.box.className = "chart";
      this.box.dataset.chart = spec.key;
      const title = document.createElement("h3");
      title.textContent = spec.title;
      this.box.append(title);
      parent.append(this.box);
      this.data = [[], ...spec.lines.map(() => [])];
      this.plot = new uPlot(this.options(), this.data, this.box);
      new ResizeObserver(() => this.resize()).observe(this.box);
    }

    options() {
      const spec = this.spec;
      return {
        width: this.width(),
        height: HEIGHT,
        series: [{}, ...spec.lines.map(seriesOptions)],
        scales: {
          x: { time: true, range: (u, low, high) => this.xRange || [low, high] },
          y: {
            range: (u, low, high) => [
              spec.min ?? Math.min(0, low ?? 0),
              Math.max(spec.max ?? 0, (high ?? 1) * 1.08, 1),
            ],
          },
        },
        axes: [{}, { label: spec.unit, size: 56 }],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      };
    }

    width() {
      return Math.max(240, Math.floor(this.box.clientWidth || 320));
    }

    resize() {
      const width = this.width();
      if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
    }

    /* `xs`: seconds since the epoch; `columns`: one array per measured line; `span`: the
       [from, to] seconds the x axis covers. Threshold lines run across the whole span. */
    set(xs, columns, span) {
      this.xRange = span;
      const before = span && (!xs.length || span[0] < xs[0]) ? [span[0]] : [];
      const after = span && (!xs.length || span[1] > xs[xs.length - 1]) ? [span[1]] : [];
      const x = [...before, ...xs, ...after];
      const pad = (column) => [...before.map(() => null), ...column, ...after.map(() => null)];
      let next = 0;
      const lines = this.spec.lines.map((line) =>
        line.threshold ? x.map(() => line.value) : pad(columns[next++])
      );
      this.data = [x, ...lines];
      this.plot.setData(this.data);
      this.box.dataset.points = String(xs.length);
    }

    /* How many values of the measured (non-threshold) lines are drawn. */
    points() {
      let count = 0;
      this.spec.lines.forEach((line, i) => {
        if (!line.threshold) count += this.data[i + 1].filter((v) => v != null).length;
      });
      return count;
    }
  }

  window.DashboardCharts = { Chart };
})();
