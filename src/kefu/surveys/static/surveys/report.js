// The satisfaction trend: CSAT % and NPS per period, from the JSON the page embeds.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("survey-trend");
    var box = document.getElementById("survey-trend-chart");
    if (!source || !box || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(box);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [data.csat_name, data.nps_name] },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", min: -100, max: 100 },
      series: [
        { name: data.csat_name, type: "line", data: data.csat },
        { name: data.nps_name, type: "line", data: data.nps }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
