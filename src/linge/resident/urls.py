from django.urls import path

from linge.resident import views

app_name = "resident"
urlpatterns = [
    path("g/<str:code>", views.grid, name="grid"),
    path("report", views.report, name="report"),
    path("report/suggest", views.suggest_json, name="suggest"),
    path("report/nearby", views.nearby_json, name="nearby"),
    path("report/where", views.where_json, name="where"),
    path("c/<str:number>/support", views.support, name="support"),
    path("c/<str:number>/rate", views.rate, name="rate"),
    path("c/<str:number>", views.case_detail, name="case"),
    path("p/<int:pk>/<str:size>", views.photo, name="photo"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("track", views.track, name="track"),
    path("mine", views.mine, name="mine"),
    path("inbox", views.inbox, name="inbox"),
]
