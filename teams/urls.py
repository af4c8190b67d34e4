from django.urls import path

from . import views

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="list"),
    path("new/", views.team_new, name="new"),
    path("invite/<str:token>/", views.invite, name="invite"),
    path("<slug:slug>/", views.team_detail, name="detail"),
    path("<slug:slug>/leave/", views.leave, name="leave"),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/members/<str:username>/role/", views.member_role, name="member_role"),
    path("<slug:slug>/members/<str:username>/remove/", views.member_remove, name="member_remove"),
    path("<slug:slug>/invites/", views.invite_new, name="invite_new"),
    path("<slug:slug>/invites/<uuid:code>/delete/", views.invite_delete, name="invite_delete"),
    path("<slug:slug>/shares/", views.shares, name="shares"),
    path("<slug:slug>/shares/<uuid:code>/delete/", views.share_delete, name="share_delete"),
]
