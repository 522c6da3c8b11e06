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

  /* One chart: `spec` = {key, title, unit, lines: [{label, color, threshold?}], min?, max?}. */
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

    /* `xs`: seconds since the epoch; `columns`: one array per line, thresholds included. */
    set(xs, columns) {
      this.data = [xs, ...columns];
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
