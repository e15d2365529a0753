/* SLA report charts: compliance by month, and first-response / resolution time distributions. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var source = document.getElementById("sla-charts");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var labels = document.getElementById("chart-labels").dataset;
    var charts = [];
    var palette = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1"];

    var trend = document.getElementById("chart-trend");
    if (trend) {
      var chart = window.echarts.init(trend);
      chart.setOption({
        color: palette,
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
        legend: { bottom: 0 },
        grid: { left: 40, right: 12, top: 12, bottom: 48 },
        xAxis: { type: "category", data: data.trend.months },
        yAxis: { type: "value", min: 0, max: 100, name: labels.percent },
        series: data.trend.series.map(function (s) {
          return { name: s.name, type: "line", data: s.data, connectNulls: true, symbolSize: 6 };
        })
      });
      charts.push(chart);
    }
    data.distributions.forEach(function (d, i) {
      var box = document.getElementById("chart-dist-" + i);
      if (!box) { return; }
      var chart = window.echarts.init(box);
      chart.setOption({
        color: [palette[i]],
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 12, top: 12, bottom: 40 },
        xAxis: { type: "category", data: d.labels, name: labels.hours, nameLocation: "middle", nameGap: 26 },
        yAxis: { type: "value", name: labels.count, minInterval: 1 },
        series: [{ name: d.metric, type: "bar", data: d.counts, barMaxWidth: 36 }]
      });
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
