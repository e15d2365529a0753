/* Workforce charts: forecast against actual contacts with agents required, and the coverage
   heat map (scheduled minus required per day and interval). */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  ready(function () {
    if (!window.echarts) { return; }
    var labels = (document.getElementById("wfm-labels") || { dataset: {} }).dataset;
    var charts = [];
    var fc = data("wfm-forecast");
    var box = document.getElementById("wfm-forecast-chart");
    if (fc && box) {
      var chart = window.echarts.init(box);
      chart.setOption({
        color: ["#0d6efd", "#fd7e14", "#20c997"],
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 48, right: 48, top: 16, bottom: 72 },
        dataZoom: [{ type: "inside" }, { type: "slider", bottom: 28, height: 16 }],
        xAxis: { type: "category", data: fc.labels },
        yAxis: [{ type: "value", name: labels.contacts }, { type: "value", name: labels.agents, splitLine: { show: false } }],
        series: [
          { name: labels.forecast, type: "line", data: fc.forecast, showSymbol: false },
          { name: labels.actual, type: "line", data: fc.actual, showSymbol: false },
          { name: labels.required, type: "line", step: "end", yAxisIndex: 1, data: fc.required, showSymbol: false, lineStyle: { type: "dashed" } }
        ]
      });
      charts.push(chart);
    }
    var cov = data("wfm-coverage");
    var heat = document.getElementById("wfm-heatmap");
    if (cov && heat) {
      var perDay = cov.times.length;
      var cells = cov.gap.map(function (g, i) { return [i % perDay, Math.floor(i / perDay), g]; });
      var worst = Math.max(1, Math.max.apply(null, cov.gap.map(Math.abs)));
      var chart2 = window.echarts.init(heat);
      chart2.setOption({
        tooltip: {
          formatter: function (p) {
            var i = p.value[1] * perDay + p.value[0];
            return cov.days[p.value[1]] + " " + cov.times[p.value[0]] + "<br>" + labels.required + ": " + cov.required[i] +
              "<br>" + labels.gap + ": " + cov.gap[i];
          }
        },
        grid: { left: 56, right: 16, top: 8, bottom: 64 },
        xAxis: { type: "category", data: cov.times, splitArea: { show: true } },
        yAxis: { type: "category", data: cov.days, inverse: true },
        visualMap: { min: -worst, max: worst, calculable: true, orient: "horizontal", left: "center", bottom: 0,
          inRange: { color: ["#b02a37", "#f8d7da", "#ffffff", "#d1e7dd", "#146c43"] } },
        series: [{ name: labels.gap, type: "heatmap", data: cells }]
      });
      charts.push(chart2);
    }
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
